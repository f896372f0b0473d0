"""Write a ``Recording`` as an HL7 aECG XML document (the structure ``ingest.readers.aecg`` reads)."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from schemas.recording import STANDARD_LEADS, Recording

__all__ = ["write_aecg", "MDC_CODES"]

NS = "urn:hl7-org:v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
MDC_CODES = {name: f"MDC_ECG_LEAD_{name.upper()}" for name in STANDARD_LEADS}


def _el(parent: ET.Element, tag: str, **attrs: str) -> ET.Element:
    return ET.SubElement(parent, f"{{{NS}}}{tag}", dict(attrs))


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S.%f")[:-3]


def write_aecg(
    rec: Recording,
    path: str | Path,
    *,
    leads: Sequence[str] = STANDARD_LEADS,
    scale_uv: float = 1.0,
    birth_time: datetime | None = None,
) -> Path:
    """Write ``rec`` (only ``leads``) with samples as integer multiples of ``scale_uv`` µV."""
    ET.register_namespace("", NS)
    ET.register_namespace("xsi", XSI)
    path = Path(path)
    start = rec.acquired_at or datetime(2026, 1, 1, tzinfo=UTC)
    end = start + timedelta(seconds=rec.duration_s)
    root = ET.Element(f"{{{NS}}}AnnotatedECG")
    _el(root, "id", root=rec.recording_id if _is_uuid(rec.recording_id) else str(uuid.uuid4()))
    _el(root, "code", code="93000", codeSystem="2.16.840.1.113883.6.12")
    time = _el(root, "effectiveTime")
    _el(time, "low", value=_ts(start))
    _el(time, "high", value=_ts(end))
    subject = _el(
        _el(
            _el(_el(_el(_el(root, "componentOf"), "timepointEvent"), "componentOf"), "subjectAssignment"),
            "subject",
        ),
        "trialSubject",
    )
    _el(subject, "id", extension=rec.patient_ref or "unknown")
    person = _el(subject, "subjectDemographicPerson")
    if rec.sex:
        _el(person, "administrativeGenderCode", code=rec.sex, codeSystem="2.16.840.1.113883.5.1")
    if birth_time is None and rec.age is not None:
        birth_time = start.replace(year=start.year - int(rec.age) - 1) + timedelta(days=1)
    if birth_time is not None:
        _el(person, "birthTime", value=birth_time.strftime("%Y%m%d"))
    series = _el(_el(root, "component"), "series")
    _el(series, "code", code="RHYTHM", codeSystem="2.16.840.1.113883.5.4")
    if rec.device_id:
        _el(_el(_el(series, "author"), "seriesAuthor"), "manufacturedSeriesDevice").append(
            ET.Element(f"{{{NS}}}id", {"extension": rec.device_id})
        )
    sequence_set = _el(_el(series, "component"), "sequenceSet")
    time_seq = _el(_el(sequence_set, "component"), "sequence")
    _el(time_seq, "code", code="TIME_ABSOLUTE", codeSystem="2.16.840.1.113883.5.4")
    time_value = ET.SubElement(time_seq, f"{{{NS}}}value", {f"{{{XSI}}}type": "GLIST_TS"})
    _el(time_value, "head", value=_ts(start))
    _el(time_value, "increment", value=f"{1.0 / float(rec.fs):.9g}", unit="s")
    for name in leads:
        counts = np.rint(np.asarray(rec.signal[rec.leads.index(name)], dtype=np.float64) * 1000.0 / scale_uv)
        seq = _el(_el(sequence_set, "component"), "sequence")
        _el(seq, "code", code=MDC_CODES[name], codeSystem="2.16.840.1.113883.6.24")
        value = ET.SubElement(seq, f"{{{NS}}}value", {f"{{{XSI}}}type": "SLIST_PQ"})
        _el(value, "origin", value="0", unit="uV")
        _el(value, "scale", value=f"{scale_uv:g}", unit="uV")
        _el(value, "digits").text = " ".join(str(int(c)) for c in counts)
    ET.ElementTree(root).write(path, encoding="UTF-8", xml_declaration=True)
    return path


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
