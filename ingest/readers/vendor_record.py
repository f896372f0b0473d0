"""The readers built on ecgdatakit (GE MUSE, Philips Sierra, SCP-ECG): its record to a ``Recording``.

``run_library`` runs one call into ecgdatakit (a parser, its XML helper) and turns every error and
integrity warning it raises into the project's own (one place for that mapping); ``to_recording`` turns its
``ECGRecord`` into a normalised 12-lead ``Recording`` in mV, with the file's own measurements,
statements and representative beat in ``Recording.vendor``.

Error mapping (reason codes):

- an XML entity declaration or external entity refused by defusedxml -> ``forbidden_content``
- ``UnsupportedFormatError`` (a document version or an encoding the parser does not decode)
  -> ``unsupported_variant``
- a checksum warning (MUSE per-lead CRC-32, SCP-ECG CRC-CCITT) -> ``checksum_mismatch``: the file
  says its own bytes are damaged, so its samples are not used
- leads without a voltage unit (``RawSamplesError``) -> ``implausible_amplitude``
- anything else (truncated data, invalid Base64, malformed XML) -> ``unreadable``
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from core.errors import EcgstreamError
from ingest.identity import content_recording_id
from ingest.leads import assemble_leads, normalise_lead_name
from ingest.limits import (
    CHECKSUM_MISMATCH,
    FORBIDDEN_CONTENT,
    INCONSISTENT_SAMPLING,
    UNSUPPORTED_VARIANT,
    ReadLimits,
    refuse_above,
)
from schemas.errors import InvalidRecording, UnsupportedFormat
from schemas.recording import Recording
from schemas.vendor import VendorReport

__all__ = ["run_library", "to_recording", "vendor_report", "forbidden_xml"]

T = TypeVar("T")

logger = logging.getLogger(__name__)

# ecgdatakit GlobalMeasurements field -> ecgstream measurement name (schemas.vendor.MEASUREMENT_KEYS)
_MEASUREMENTS = {
    "heart_rate": "heart_rate_bpm", "rr_interval": "rr_mean_ms", "pr_interval": "pr_ms",
    "qrs_duration": "qrs_ms", "qt_interval": "qt_ms", "qtc_bazett": "qtc_bazett_ms",
    "qtc_fridericia": "qtc_fridericia_ms", "p_axis": "p_axis_deg", "qrs_axis": "qrs_axis_deg",
    "t_axis": "t_axis_deg",
}  # fmt: skip


def forbidden_xml(name: str, exc: BaseException) -> InvalidRecording:
    """The error for XML that declares entities or references external ones."""
    return InvalidRecording(
        f"{name}: XML with entity declarations or external entity references is refused "
        f"({type(exc).__name__})",
        reason=FORBIDDEN_CONTENT,
    )


def _translate(exc: Exception, name: str, kind: str) -> EcgstreamError:
    from defusedxml import DefusedXmlException
    from ecgdatakit.exceptions import RawSamplesError, UnsupportedFormatError

    cause = exc.__cause__
    if isinstance(exc, DefusedXmlException) or isinstance(cause, DefusedXmlException):
        return forbidden_xml(name, cause if isinstance(cause, DefusedXmlException) else exc)
    if isinstance(exc, UnsupportedFormatError):
        return UnsupportedFormat(f"{name}: {kind} not supported: {exc}", reason=UNSUPPORTED_VARIANT)
    if isinstance(exc, RawSamplesError):
        return InvalidRecording(f"{name}: {kind} leads have no voltage unit ({exc})", reason="implausible_amplitude")
    return UnsupportedFormat(f"{name}: unreadable {kind} ({type(exc).__name__}: {exc})", reason="unreadable")


def run_library(call: Callable[[], T], name: str, kind: str) -> T:
    """``call()`` (e.g. an ecgdatakit parser's ``parse``) with its errors translated.

    A checksum warning is an error here: a lead whose CRC does not match is damaged.
    """
    from ecgdatakit.exceptions import ChecksumWarning

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = call()
    except EcgstreamError:
        raise
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - the library's errors and the XML parser's, all translated
        raise _translate(exc, name, kind) from exc
    damaged = [str(w.message) for w in caught if issubclass(w.category, ChecksumWarning)]
    if damaged:
        raise InvalidRecording(
            f"{name}: {kind} checksum mismatch, the waveform is damaged ({damaged[0]}"
            + (f", and {len(damaged) - 1} more" if len(damaged) > 1 else "")
            + ")",
            reason=CHECKSUM_MISMATCH,
        )
    for w in caught:  # the category only: library messages name the file, which can name the patient
        logger.debug("reader warning", extra={"format": kind, "warning": w.category.__name__})
    return result


def _millivolts(lead: Any, kind: str) -> np.ndarray:
    from ecgdatakit.exceptions import RawSamplesError

    try:
        return np.asarray(lead.to_physical().convert_units("mV").samples, dtype=np.float64)
    except (RawSamplesError, ValueError) as exc:
        raise InvalidRecording(
            f"{kind} lead {lead.label}: no voltage unit to scale its samples ({exc})", reason="implausible_amplitude"
        ) from None


def _named_leads(leads: Sequence[Any], kind: str) -> tuple[dict[str, np.ndarray], float]:
    """Standard-named mV arrays of ``leads`` (the first of each name) and their one sampling rate."""
    named: dict[str, np.ndarray] = {}
    rates: set[float] = set()
    for lead in leads:
        name = normalise_lead_name(lead.label)
        if name is None or name in named:
            continue
        named[name] = _millivolts(lead, kind)
        rates.add(float(lead.sampling_rate))
    if len(rates) > 1:
        raise InvalidRecording(
            f"{kind} leads have different sampling rates ({', '.join(f'{r:g}' for r in sorted(rates))} Hz)",
            reason=INCONSISTENT_SAMPLING,
        )
    if not named:
        raise InvalidRecording(f"{kind}: no standard ECG lead in the file", reason="missing_leads")
    rate = rates.pop()
    if not np.isfinite(rate) or rate <= 0:
        raise UnsupportedFormat(f"{kind}: implausible sampling rate {rate:g} Hz", reason="unreadable")
    return named, rate


def _median(record: Any, kind: str) -> tuple[np.ndarray | None, float | None]:
    """The representative beat as (12, M) mV, or (None, None) where absent or incomplete."""
    if not record.median_beats:
        return None, None
    try:
        named, rate = _named_leads(record.median_beats, kind)
        return assemble_leads(named), rate
    except InvalidRecording as exc:
        logger.debug("representative beat not kept", extra={"format": kind, "reason": exc.reason})
        return None, None


def _statements(interpretation: Any) -> tuple[str, ...]:
    lines = []
    for left, right in interpretation.statements:
        left, right = str(left or "").strip(), str(right or "").strip()
        if left or right:
            lines.append(f"{left} ({right})" if left and right else left or right)
    return tuple(lines)


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def vendor_report(record: Any, system: str, *, qtc: Any = None) -> VendorReport:
    """The file's own measurements and statements; ``qtc`` is a QTc whose formula is not stated."""
    measurements = {
        ours: number
        for theirs, ours in _MEASUREMENTS.items()
        if (number := _number(getattr(record.measurements, theirs, None))) is not None
    }
    if (number := _number(qtc)) is not None:
        measurements["qtc_ms"] = number
    median, median_fs = _median(record, system)
    interpretation = record.interpretation
    return VendorReport(
        system=system,
        measurements=measurements,
        statements=_statements(interpretation),
        status=interpretation.source or None,
        severity=interpretation.severity or None,
        median=median,
        median_fs=median_fs,
    )


def _utc(moment: datetime | None) -> datetime | None:
    """Aware UTC; a time without a zone (MUSE, Sierra) is labelled UTC, as the DICOM reader does."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _positive(value: Any) -> float | None:
    number = _number(value)
    return number if number is not None and number > 0 else None


def _demographics(record: Any) -> dict[str, Any]:
    patient, device = record.patient, record.recording.device
    age = patient.age if isinstance(patient.age, int) and 0 <= patient.age <= 130 else None
    return {
        "age": age,
        "sex": patient.sex if patient.sex in ("M", "F") else None,
        "height_cm": _positive(patient.height),
        "weight_kg": _positive(patient.weight),
        "patient_ref": str(patient.patient_id or "").strip() or None,
        "device_id": str(device.serial_number or device.name or "").strip() or None,
        "acquired_at": _utc(record.recording.date),
    }


def to_recording(
    record: Any, *, kind: str, system: str, path: Path, limits: ReadLimits, qtc: Any = None
) -> Recording:
    """The normalised ``Recording`` of an ecgdatakit record, with its ``VendorReport``."""
    named, fs = _named_leads(record.leads, system)
    refuse_above(path.name, "the number of samples", sum(v.size for v in named.values()), limits.max_values)
    signal = assemble_leads(named)
    return Recording(
        signal=signal,
        fs=fs,
        recording_id=content_recording_id(kind, path.stem, signal, fs),
        source=path.name,
        vendor=vendor_report(record, system, qtc=qtc),
        **_demographics(record),
    )
