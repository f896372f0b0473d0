"""DICOM 12-lead ECG waveform files (``WaveformSequence``), read with pydicom.

The multiplex group with the most ECG leads is read (``RHYTHM`` preferred); values are scaled by
channel sensitivity, correction factor and baseline, then converted from the channel's units
(``uV``/``mV`` per ``ChannelSensitivityUnitsSequence``) to mV. Lead names come from
``ChannelSourceSequence`` code meanings (``Lead I``...), else ``ChannelLabel``.

Only the elements listed in ``READ_TAGS`` are parsed (pydicom skips the others, private elements
included, without reading their values). A Deflated Explicit VR Little Endian file is inflated here,
streaming, up to ``ReadLimits.max_decoded_bytes`` (pydicom would inflate all of it at once), and the
waveform's declared channels x samples are checked against ``ReadLimits`` before it is decoded.
"""

from __future__ import annotations

import logging
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import EcgstreamError
from ingest.identity import content_recording_id
from ingest.leads import assemble_leads, normalise_lead_name
from ingest.limits import DEFAULT_LIMITS, ReadLimits, refuse_above
from schemas.errors import InvalidRecording, UnsupportedFormat
from schemas.recording import Recording

__all__ = ["read", "DICOM_MAGIC_OFFSET", "DICOM_MAGIC"]

logger = logging.getLogger(__name__)

DICOM_MAGIC_OFFSET = 128
DICOM_MAGIC = b"DICM"
UNIT_SCALE = {"uv": 1e-3, "mv": 1.0, "v": 1e3}
MAX_SAMPLES = 2_000_000
READ_TAGS = [
    "WaveformSequence", "PatientAge", "PatientSex", "PatientSize", "PatientWeight", "PatientID",
    "DeviceSerialNumber", "AcquisitionDateTime", "AcquisitionDate", "AcquisitionTime", "SOPInstanceUID",
]  # fmt: skip
_INFLATE_CHUNK = 1024 * 1024


def _inflate_bounded(stream: Any, name: str, limit: int) -> bytes:
    """The raw-DEFLATE rest of ``stream``, refused once it inflates beyond ``limit`` bytes."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    out = bytearray()
    while chunk := stream.read(_INFLATE_CHUNK):
        while chunk:
            out += inflater.decompress(chunk, _INFLATE_CHUNK)
            refuse_above(name, "the inflated (Deflated transfer syntax) size in bytes", len(out), limit)
            chunk = inflater.unconsumed_tail
        if inflater.eof:
            break
    return bytes(out)


def _open_dataset(path: Path, limits: ReadLimits) -> Any:
    """The dataset's ``READ_TAGS``, inflating a Deflated transfer syntax within ``limits``."""
    import pydicom
    from pydicom.filebase import DicomBytesIO
    from pydicom.filereader import _read_file_meta_info, read_preamble
    from pydicom.filewriter import write_file_meta_info
    from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian

    with path.open("rb") as handle:
        read_preamble(handle, False)
        meta = _read_file_meta_info(handle)
        if meta.get("TransferSyntaxUID") != DeflatedExplicitVRLittleEndian:
            handle.seek(0)
            return pydicom.dcmread(handle, specific_tags=READ_TAGS, stop_before_pixels=True)
        inflated = _inflate_bounded(handle, path.name, limits.max_decoded_bytes)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    buffer = DicomBytesIO()
    buffer.write(b"\0" * DICOM_MAGIC_OFFSET + DICOM_MAGIC)
    write_file_meta_info(buffer, meta, enforce_standard=True)
    buffer.write(inflated)
    del inflated
    buffer.seek(0)
    return pydicom.dcmread(buffer, specific_tags=READ_TAGS, stop_before_pixels=True)


def _check_waveform_size(group: Any, name: str, limits: ReadLimits) -> None:
    """Channels x samples x bytes declared by ``group`` against ``limits`` and its WaveformData."""
    channels = int(group.NumberOfWaveformChannels)
    samples = int(group.NumberOfWaveformSamples)
    if not 0 < samples <= MAX_SAMPLES or not 0 < channels <= 64:
        raise UnsupportedFormat(
            f"{name}: implausible waveform ({channels} channels x {samples} samples)", reason="unreadable"
        )
    refuse_above(name, "the number of samples (channels x samples)", channels * samples, limits.max_values)
    bits = int(getattr(group, "WaveformBitsAllocated", 16) or 16)
    expected = channels * samples * bits // 8
    data = getattr(group, "WaveformData", None)
    if data is None or len(data) < expected:
        raise UnsupportedFormat(f"{name}: WaveformData is shorter than its channels x samples", reason="unreadable")


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


def read(path: Path, *, limits: ReadLimits = DEFAULT_LIMITS) -> Recording:
    """A DICOM ECG waveform file as a normalised 12-lead ``Recording`` in mV."""
    path = Path(path)
    try:
        ds = _open_dataset(path, limits)
        index = _pick_group(ds)
        group = ds.WaveformSequence[index]
        _check_waveform_size(group, path.name, limits)
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
    except MemoryError:
        raise
    except Exception as exc:  # pydicom raises InvalidDicomError, AttributeError, ValueError... on bad files
        raise UnsupportedFormat(
            f"{path.name}: unreadable DICOM ECG ({type(exc).__name__}: {exc})", reason="unreadable"
        ) from exc
    return Recording(signal=signal, fs=fs, recording_id=recording_id, source=path.name, **demographics)
