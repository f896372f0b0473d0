"""DICOM 12-lead ECG waveform files (``WaveformSequence``), read with pydicom.

The multiplex group with the most ECG leads is read (``RHYTHM`` preferred); values are scaled by
channel sensitivity, correction factor and baseline, then converted from the channel's units
(``uV``/``mV`` per ``ChannelSensitivityUnitsSequence``) to mV. Lead names come from
``ChannelSourceSequence`` code meanings (``Lead I``...), else ``ChannelLabel``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ingest.identity import content_recording_id
from ingest.leads import assemble_leads, normalise_lead_name
from schemas.errors import EcgstreamError, InvalidRecording, UnsupportedFormat
from schemas.recording import Recording

__all__ = ["read", "DICOM_MAGIC_OFFSET", "DICOM_MAGIC"]

logger = logging.getLogger(__name__)

DICOM_MAGIC_OFFSET = 128
DICOM_MAGIC = b"DICM"
UNIT_SCALE = {"uv": 1e-3, "mv": 1.0, "v": 1e3}
MAX_SAMPLES = 2_000_000


def _channel_name(channel: Any) -> str | None:
    for source in getattr(channel, "ChannelSourceSequence", None) or []:
        for text in (getattr(source, "CodeMeaning", None), getattr(source, "CodeValue", None)):
            if text and (name := normalise_lead_name(str(text))):
                return name
    label = getattr(channel, "ChannelLabel", None)
    return normalise_lead_name(str(label)) if label else None


def _channel_scale(channel: Any) -> float:
    units = getattr(channel, "ChannelSensitivityUnitsSequence", None) or []
    code = str(getattr(units[0], "CodeValue", "uV")) if units else "uV"
    scale = UNIT_SCALE.get(code.strip().lower())
    if scale is None:
        raise InvalidRecording(f"channel units {code!r} are not a voltage", reason="implausible_amplitude")
    return scale


def _group_leads(group: Any) -> list[str | None]:
    return [_channel_name(ch) for ch in getattr(group, "ChannelDefinitionSequence", None) or []]


def _pick_group(ds: Any) -> int:
    groups = list(getattr(ds, "WaveformSequence", None) or [])
    if not groups:
        raise UnsupportedFormat(
            "DICOM file has no WaveformSequence (not an ECG waveform)", reason="unreadable"
        )
    scored = [
        (
            sum(name is not None for name in _group_leads(g)),
            str(getattr(g, "MultiplexGroupLabel", "")) == "RHYTHM",
            -i,
        )
        for i, g in enumerate(groups)
    ]
    best = max(range(len(groups)), key=lambda i: scored[i])
    if scored[best][0] == 0:
        raise InvalidRecording("no ECG lead in any waveform multiplex group", reason="missing_leads")
    return best


def _age(text: str | None) -> int | None:
    """Years from a DICOM age string (``065Y``; days, weeks and months count as 0 years)."""
    text = str(text or "").strip().upper()
    if not text:
        return None
    unit, digits = (text[-1], text[:-1]) if text[-1] in "DWMY" else ("Y", text)
    try:
        value = int(digits)
    except ValueError:
        return None
    return value if unit == "Y" else 0


def _acquired_at(ds: Any) -> datetime | None:
    text = str(getattr(ds, "AcquisitionDateTime", "") or "")
    if not text:
        date, time = (
            str(getattr(ds, "AcquisitionDate", "") or ""),
            str(getattr(ds, "AcquisitionTime", "") or ""),
        )
        text = date + time if date else ""
    if len(text) < 8:
        return None
    for fmt in ("%Y%m%d%H%M%S.%f", "%Y%m%d%H%M%S", "%Y%m%d%H%M", "%Y%m%d"):
        try:
            return datetime.strptime(text.split("+")[0].split("-")[0][:21], fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def _optional_float(value: Any, factor: float = 1.0) -> float | None:
    try:
        number = float(value) * factor
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) and number > 0 else None


def read(path: Path) -> Recording:
    """A DICOM ECG waveform file as a normalised 12-lead ``Recording`` in mV."""
    import pydicom

    path = Path(path)
    try:
        ds = pydicom.dcmread(path)
        index = _pick_group(ds)
        group = ds.WaveformSequence[index]
        n_samples = int(group.NumberOfWaveformSamples)
        if not 0 < n_samples <= MAX_SAMPLES:
            raise UnsupportedFormat(
                f"{path.name}: implausible NumberOfWaveformSamples {n_samples}", reason="unreadable"
            )
        fs = float(group.SamplingFrequency)
        values = np.asarray(ds.waveform_array(index), dtype=np.float64)  # (samples, channels)
        channels = list(group.ChannelDefinitionSequence)
        if values.ndim != 2 or values.shape[1] != len(channels):
            raise UnsupportedFormat(
                f"{path.name}: waveform data does not match its channels", reason="unreadable"
            )
        named: dict[str, np.ndarray] = {}
        for column, channel in enumerate(channels):
            name = _channel_name(channel)
            if name is not None and name not in named:
                named[name] = values[:, column] * _channel_scale(channel)
        signal = assemble_leads(named)
        demographics: dict[str, Any] = {
            "age": _age(getattr(ds, "PatientAge", None)),
            "sex": str(getattr(ds, "PatientSex", "") or "").upper()[:1] or None,
            "height_cm": _optional_float(getattr(ds, "PatientSize", None), 100.0),
            "weight_kg": _optional_float(getattr(ds, "PatientWeight", None)),
            "patient_ref": str(getattr(ds, "PatientID", "") or "") or None,
            "device_id": str(getattr(ds, "DeviceSerialNumber", "") or "") or None,
            "acquired_at": _acquired_at(ds),
        }
        if demographics["sex"] not in ("M", "F"):
            demographics["sex"] = None
        recording_id = str(getattr(ds, "SOPInstanceUID", "") or "") or content_recording_id(
            "dicom", path.stem, signal, fs
        )
    except EcgstreamError:
        raise
    except Exception as exc:  # pydicom raises InvalidDicomError, AttributeError, ValueError... on bad files
        raise UnsupportedFormat(
            f"{path.name}: unreadable DICOM ECG ({type(exc).__name__}: {exc})", reason="unreadable"
        ) from exc
    return Recording(signal=signal, fs=fs, recording_id=recording_id, source=path.name, **demographics)
