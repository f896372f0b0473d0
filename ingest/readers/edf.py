"""EDF / EDF+ (and BDF / BDF+) files, read with pyedflib (EDFlib, C).

The 12 standard leads are found by signal label, in the spellings carts and converters write
(``I``, ``ECG I``, ``EKG-II``, ``Lead aVR``, ``ECG V1``, ``MDC_ECG_LEAD_V2``, ``ECG C3`` for V3 as
European carts name the chest leads); signals that are no ECG lead (EEG, respiration, EDF
Annotations) are ignored, and III, aVR, aVL, aVF are derived from I and II where absent. Physical
units (``uV``/``µV``, ``mV``, ``V``) are converted to mV; any other unit is refused. The leads
must share one sampling rate (``inconsistent_sampling`` otherwise). Discontinuous files (EDF+D,
BDF+D) are refused (``unsupported_variant``): their data records are not one recording.
Demographics: sex and the EDF+ patient code (never the plain-EDF patient field, which is free
text and may hold the patient's name).

Bounds: EDFlib checks at open that the file's size matches its header (records x record size),
and reads one signal at a time; the samples of the leads used are checked against
``ReadLimits.max_values`` before any is read (annotations are not read at all).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import EcgstreamError
from ingest.identity import content_recording_id
from ingest.leads import assemble_leads, normalise_lead_name
from ingest.limits import DEFAULT_LIMITS, INCONSISTENT_SAMPLING, UNSUPPORTED_VARIANT, ReadLimits, refuse_above
from schemas.errors import InvalidRecording, UnsupportedFormat
from schemas.recording import Recording

__all__ = ["read", "looks_like_edf", "edf_lead_name", "UNIT_TO_MV"]

KIND = "EDF"
BDF_MAGIC = b"\xffBIOSEMI"
UNIT_TO_MV = {"uv": 1e-3, "µv": 1e-3, "μv": 1e-3, "microvolt": 1e-3, "mv": 1.0, "millivolt": 1.0, "v": 1e3, "volt": 1e3}
_ECG_PREFIX = re.compile(r"^(?:ecg|ekg)(?:[\s_.:-]+|(?=[a-z0-9]))", re.IGNORECASE)
_CHEST = re.compile(r"^c([1-6])$", re.IGNORECASE)
_REFERENCE = re.compile(r"[\s_-]*(?:-?ref|-?avg)$", re.IGNORECASE)  # "ECG V1-REF": the lead itself


def looks_like_edf(head: bytes) -> bool:
    """An EDF ("0" + 7 spaces) or BDF (0xFF "BIOSEMI") header: the version, then a numeric signal count."""
    if len(head) < 256 or not (head.startswith(b"0       ") or head.startswith(BDF_MAGIC)):
        return False
    return head[252:256].strip().isdigit() and head[184:192].strip().isdigit()


def edf_lead_name(label: str) -> str | None:
    """The standard lead an EDF signal label names, else None."""
    text = _REFERENCE.sub("", str(label).strip())
    rest, prefixed = _ECG_PREFIX.sub("", text), bool(_ECG_PREFIX.match(text))
    if prefixed and (chest := _CHEST.match(rest.strip())):
        return f"V{chest.group(1)}"
    return normalise_lead_name(rest) if prefixed else normalise_lead_name(text)


def _millivolts_per_unit(dimension: str, label: str) -> float:
    unit = dimension.strip().lower().rstrip("s")
    if unit not in UNIT_TO_MV:
        raise InvalidRecording(
            f"{KIND} signal {label!r}: physical unit {dimension.strip()!r} is not a voltage", reason="implausible_amplitude"
        )
    return UNIT_TO_MV[unit]


def _select(reader: Any, name: str) -> dict[str, int]:
    """Standard lead name -> signal number (the first signal of each name)."""
    chosen: dict[str, int] = {}
    for number in range(reader.signals_in_file):
        lead = edf_lead_name(reader.getLabel(number))
        if lead is not None and lead not in chosen:
            chosen[lead] = number
    if not chosen:
        labels = ", ".join(repr(reader.getLabel(n)) for n in range(min(reader.signals_in_file, 8)))
        raise InvalidRecording(f"{name}: no ECG lead among the signals ({labels})", reason="missing_leads")
    return chosen


def _rate(reader: Any, chosen: dict[str, int], name: str) -> float:
    rates = {float(reader.getSampleFrequency(number)) for number in chosen.values()}
    if len(rates) > 1:
        raise InvalidRecording(
            f"{name}: the ECG leads have different sampling rates ({', '.join(f'{r:g}' for r in sorted(rates))} Hz)",
            reason=INCONSISTENT_SAMPLING,
        )
    rate = rates.pop()
    if not np.isfinite(rate) or rate <= 0:
        raise UnsupportedFormat(f"{name}: implausible sampling rate {rate:g} Hz", reason="unreadable")
    return rate


def _demographics(reader: Any, plus: bool) -> dict[str, Any]:
    sex = reader.getSex().strip().upper()[:1] if plus else ""
    code = reader.getPatientCode().strip() if plus else ""
    try:
        start: datetime | None = reader.getStartdatetime().replace(tzinfo=UTC)  # local time, labelled UTC
    except (ValueError, OverflowError):
        start = None
    return {
        "sex": sex if sex in ("M", "F") else None,
        "patient_ref": code if code and code.upper() != "X" else None,
        "acquired_at": start,
    }


def _header(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(256)


def read(path: Path, *, limits: ReadLimits = DEFAULT_LIMITS) -> Recording:
    """An EDF/EDF+/BDF/BDF+ file as a normalised 12-lead ``Recording`` in mV."""
    import pyedflib

    path = Path(path)
    try:
        header = _header(path)
        if not looks_like_edf(header):
            raise UnsupportedFormat(f"{path.name}: not an EDF or BDF file (header)", reason="unreadable")
        reserved = header[192:236].strip()
        if reserved.startswith((b"EDF+D", b"BDF+D")):
            raise UnsupportedFormat(
                f"{path.name}: discontinuous {reserved[:5].decode()} recordings are not supported", reason=UNSUPPORTED_VARIANT
            )
        with pyedflib.EdfReader(str(path), pyedflib.DO_NOT_READ_ANNOTATIONS, pyedflib.CHECK_FILE_SIZE) as reader:
            chosen = _select(reader, path.name)
            fs = _rate(reader, chosen, path.name)
            counts = reader.getNSamples()
            refuse_above(path.name, "the number of samples (ECG leads x samples)",
                         int(sum(int(counts[n]) for n in chosen.values())), limits.max_values)  # fmt: skip
            named = {
                lead: reader.readSignal(number) * _millivolts_per_unit(reader.getPhysicalDimension(number), lead)
                for lead, number in chosen.items()
            }
            demographics = _demographics(reader, plus=reserved.startswith((b"EDF+", b"BDF+")))
        signal = assemble_leads(named)
    except EcgstreamError:
        raise
    except MemoryError:
        raise
    except Exception as exc:  # OSError from EDFlib ("file is not EDF(+) compliant ..."), ValueError...
        raise UnsupportedFormat(f"{path.name}: unreadable {KIND} ({type(exc).__name__}: {exc})", reason="unreadable") from exc
    return Recording(
        signal=signal,
        fs=fs,
        recording_id=content_recording_id("edf", path.stem, signal, fs),
        source=path.name,
        **demographics,
    )
