"""HL7 aECG (ANSI/HL7 V3 Annotated ECG, the FDA's ECG submission format) XML files.

Structure read (namespace ``urn:hl7-org:v3``, or none)::

    AnnotatedECG/id, effectiveTime/low
      componentOf/.../subjectAssignment/subject/trialSubject/id            -> patient_ref
        subjectDemographicPerson/administrativeGenderCode@code, birthTime  -> sex, age
      component/series (code RHYTHM preferred)
        author/seriesAuthor/manufacturedSeriesDevice/id@extension           -> device_id
        component/sequenceSet/component/sequence:
          code TIME_ABSOLUTE|TIME_RELATIVE, value GLIST_TS|GLIST_PQ increment -> sampling rate
          code MDC_ECG_LEAD_*, value SLIST_PQ: origin + scale * digits (unit uV or mV)

Documents are parsed with defusedxml: a DTD (``<!DOCTYPE``), an entity declaration or an external
reference is refused with reason ``forbidden_content``, in every encoding the parser understands
(UTF-16 with or without a byte order mark included), never expanded.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import EcgstreamError
from ingest.identity import content_recording_id
from ingest.leads import assemble_leads, normalise_lead_name
from ingest.limits import DEFAULT_LIMITS, FORBIDDEN_CONTENT, ReadLimits, refuse_above
from schemas.errors import InvalidRecording, UnsupportedFormat
from schemas.recording import Recording

__all__ = ["read", "parse", "NS", "MAX_XML_BYTES"]

logger = logging.getLogger(__name__)

NS = "urn:hl7-org:v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
MAX_XML_BYTES = 64 * 1024 * 1024
MAX_SAMPLES = 2_000_000
UNIT_TO_MV = {"uv": 1e-3, "mv": 1.0, "v": 1e3}
TIME_TO_S = {"s": 1.0, "ms": 1e-3, "us": 1e-6}


def _q(path: str) -> str:
    """Element paths are written without namespace: ``parse`` strips namespaces first."""
    return path


def _strip_namespaces(root: ET.Element) -> None:
    for element in root.iter():
        if isinstance(element.tag, str) and "}" in element.tag:
            element.tag = element.tag.split("}", 1)[1]


_HL7_TS = re.compile(r"^(\d{4})(\d{2})(\d{2})(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,6})\d*)?([+-]\d{4})?$")


def _hl7_time(text: str | None) -> datetime | None:
    """An HL7 V3 TS (``YYYYMMDD[HH[MM[SS[.ffff]]]][+-ZZZZ]``) as aware UTC; no offset means UTC."""
    match = _HL7_TS.match((text or "").strip())
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    zone = UTC
    if offset:
        sign = -1 if offset[0] == "-" else 1
        zone = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])))
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
            int((fraction or "0").ljust(6, "0")), tzinfo=zone,
        )  # fmt: skip
    except ValueError:
        return None
    return moment.astimezone(UTC)


def _sampling_rate(sequence_set: ET.Element) -> float:
    for seq in sequence_set.iterfind(_q("component/sequence")):
        code = seq.find(_q("code"))
        if code is not None and code.get("code", "").startswith("TIME_"):
            increment = seq.find(_q("value/increment"))
            if increment is None:
                break
            step = float(increment.get("value", "nan")) * TIME_TO_S.get(
                increment.get("unit", "s"), float("nan")
            )
            if not np.isfinite(step) or step <= 0:
                raise UnsupportedFormat(
                    f"implausible sampling increment {increment.attrib}", reason="unreadable"
                )
            return 1.0 / step
    raise UnsupportedFormat("aECG sequenceSet has no TIME_* sequence with an increment", reason="unreadable")


def _lead_values(seq: ET.Element, limits: ReadLimits = DEFAULT_LIMITS) -> tuple[str, np.ndarray] | None:
    code = seq.find(_q("code"))
    name = normalise_lead_name(code.get("code", "")) if code is not None else None
    value = seq.find(_q("value"))
    if name is None or value is None:
        return None
    origin, scale, digits = value.find(_q("origin")), value.find(_q("scale")), value.find(_q("digits"))
    if scale is None or digits is None:
        raise UnsupportedFormat(f"lead {name}: SLIST_PQ value without scale or digits", reason="unreadable")
    unit = (scale.get("unit") or "uV").strip().lower()
    if unit not in UNIT_TO_MV:
        raise InvalidRecording(f"lead {name}: unit {unit!r} is not a voltage", reason="implausible_amplitude")
    text = digits.text or ""
    if len(text) > 16 * MAX_SAMPLES:
        raise UnsupportedFormat(f"lead {name}: too many samples", reason="unreadable")
    refuse_above(f"lead {name}", "the number of samples", text.count(" ") + 1, limits.max_values)
    counts = np.array(text.split(), dtype=np.float64)
    offset = float(origin.get("value", "0")) if origin is not None else 0.0
    return name, (offset + float(scale.get("value", "1")) * counts) * UNIT_TO_MV[unit]


def _demographics(root: ET.Element, acquired_at: datetime | None) -> dict[str, Any]:
    found: dict[str, Any] = {}
    subject = root.find(".//" + _q("trialSubject"))
    if subject is None:
        return found
    subject_id = subject.find(_q("id"))
    if subject_id is not None and (subject_id.get("extension") or subject_id.get("root")):
        found["patient_ref"] = subject_id.get("extension") or subject_id.get("root")
    person = subject.find(_q("subjectDemographicPerson"))
    if person is None:
        return found
    gender = person.find(_q("administrativeGenderCode"))
    if gender is not None and gender.get("code", "").upper() in ("M", "F"):
        found["sex"] = gender.get("code", "").upper()
    birth = person.find(_q("birthTime"))
    born = _hl7_time(birth.get("value")) if birth is not None else None
    if born is not None and acquired_at is not None and acquired_at >= born:
        years = acquired_at.year - born.year - ((acquired_at.month, acquired_at.day) < (born.month, born.day))
        found["age"] = years
    return found


def _document_id(element: ET.Element | None) -> str | None:
    """HL7 II: ``root`` alone, or ``root:extension`` when the extension distinguishes documents."""
    if element is None or not element.get("root"):
        return None
    root, extension = element.get("root", ""), element.get("extension")
    return f"{root}:{extension}" if extension else root


def parse(root: ET.Element, *, source: str | None = None, limits: ReadLimits = DEFAULT_LIMITS) -> Recording:
    """A ``Recording`` from a parsed ``AnnotatedECG`` element."""
    _strip_namespaces(root)  # files with and without the urn:hl7-org:v3 default namespace exist
    if root.tag != "AnnotatedECG":
        raise UnsupportedFormat(
            f"XML root is {root.tag}, not HL7 aECG AnnotatedECG", reason="unsupported_format"
        )
    series_list = root.findall(_q("component/series"))
    if not series_list:
        raise UnsupportedFormat("aECG document has no series", reason="unreadable")
    series = next(
        (s for s in series_list if (c := s.find(_q("code"))) is not None and c.get("code") == "RHYTHM"),
        series_list[0],
    )
    sequence_set = series.find(_q("component/sequenceSet"))
    if sequence_set is None:
        raise UnsupportedFormat("aECG series has no sequenceSet", reason="unreadable")
    fs = _sampling_rate(sequence_set)
    named: dict[str, np.ndarray] = {}
    total = 0
    for seq in sequence_set.iterfind(_q("component/sequence")):
        lead = _lead_values(seq, limits)
        if lead is not None and lead[0] not in named:
            named[lead[0]] = lead[1]
            total += lead[1].size
            refuse_above(source or "aECG", "the number of samples", total, limits.max_values)
    if not named:
        raise InvalidRecording("aECG series has no MDC_ECG_LEAD_* sequence", reason="missing_leads")
    low = root.find(_q("effectiveTime/low"))
    acquired_at = _hl7_time(low.get("value")) if low is not None else None
    device = series.find(_q("author/seriesAuthor/manufacturedSeriesDevice/id"))
    ecg_id = root.find(_q("id"))
    signal = assemble_leads(named)
    return Recording(
        signal=signal,
        fs=fs,
        recording_id=_document_id(ecg_id) or content_recording_id("aecg", source or "", signal, fs),
        device_id=(device.get("extension") or None) if device is not None else None,
        acquired_at=acquired_at,
        source=source,
        **_demographics(root, acquired_at),
    )


def _parse_xml(data: bytes, name: str) -> ET.Element:
    """The document's root; DTDs, entities and external references are refused, never expanded."""
    import defusedxml.ElementTree as SafeET
    from defusedxml import DefusedXmlException

    try:
        root: ET.Element = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise InvalidRecording(
            f"{name}: XML with a DTD, entity declarations or external references is refused "
            f"({type(exc).__name__})",
            reason=FORBIDDEN_CONTENT,
        ) from None
    return root


def read(path: Path, *, limits: ReadLimits = DEFAULT_LIMITS) -> Recording:
    """An HL7 aECG file as a normalised 12-lead ``Recording`` in mV."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_XML_BYTES:
            raise UnsupportedFormat(f"{path.name}: XML file above {MAX_XML_BYTES} bytes", reason="oversize")
        root = _parse_xml(path.read_bytes(), path.name)
        return parse(root, source=path.name, limits=limits)
    except EcgstreamError:
        raise
    except MemoryError:
        raise
    except Exception as exc:  # ParseError, ValueError (bad numbers), OSError...
        raise UnsupportedFormat(
            f"{path.name}: unreadable aECG XML ({type(exc).__name__}: {exc})", reason="unreadable"
        ) from exc
