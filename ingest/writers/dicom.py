"""Write a ``Recording`` as a DICOM 12-Lead ECG Waveform Storage file (pydicom's own writer)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from schemas.recording import STANDARD_LEADS, Recording

__all__ = ["write_dicom", "TWELVE_LEAD_ECG_SOP_CLASS", "SCPECG_CODES"]

TWELVE_LEAD_ECG_SOP_CLASS: Any = "1.2.840.10008.5.1.4.1.1.9.1.1"
# SCP-ECG lead codes (DICOM CID 3001)
SCPECG_CODES = {
    "I": "5.6.3-9-1", "II": "5.6.3-9-2", "V1": "5.6.3-9-3", "V2": "5.6.3-9-4", "V3": "5.6.3-9-5",
    "V4": "5.6.3-9-6", "V5": "5.6.3-9-7", "V6": "5.6.3-9-8", "III": "5.6.3-9-61", "aVR": "5.6.3-9-62",
    "aVL": "5.6.3-9-63", "aVF": "5.6.3-9-64",
}  # fmt: skip


def _code(value: str, scheme: str, meaning: str):  # type: ignore[no-untyped-def]
    from pydicom.dataset import Dataset

    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return item


def write_dicom(
    rec: Recording,
    path: str | Path,
    *,
    leads: Sequence[str] = STANDARD_LEADS,
    sensitivity_uv: float | None = None,
) -> Path:
    """Write ``rec`` (only ``leads``, e.g. the 8 independent ones) as int16 counts.

    Channel sensitivity is ``sensitivity_uv`` µV per count, or by default 1 µV (coarser for a lead
    that would not fit int16).
    """
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence as DicomSequence
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    path = Path(path)
    rows = [rec.leads.index(name) for name in leads]
    microvolts = np.asarray(rec.signal, dtype=np.float64)[rows] * 1000.0
    sensitivity = np.maximum(1.0, np.ceil(np.abs(microvolts).max(axis=1) / 32767.0))  # µV per count
    if sensitivity_uv is not None:
        sensitivity = np.full(len(rows), float(sensitivity_uv))
    counts = np.rint(microvolts / sensitivity[:, None]).astype("<i2")

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = TWELVE_LEAD_ECG_SOP_CLASS
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = TWELVE_LEAD_ECG_SOP_CLASS
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "ECG"
    ds.PatientID = rec.patient_ref or ""
    ds.PatientSex = rec.sex or ""
    if rec.age is not None:
        ds.PatientAge = f"{int(rec.age):03d}Y"
    if rec.height_cm is not None:
        ds.PatientSize = f"{rec.height_cm / 100.0:.2f}"
    if rec.weight_kg is not None:
        ds.PatientWeight = f"{rec.weight_kg:.1f}"
    if rec.device_id:
        ds.DeviceSerialNumber = rec.device_id
    if rec.acquired_at is not None:
        ds.AcquisitionDateTime = rec.acquired_at.strftime("%Y%m%d%H%M%S.%f")

    group = Dataset()
    group.MultiplexGroupTimeOffset = "0"
    group.WaveformOriginality = "ORIGINAL"
    group.NumberOfWaveformChannels = len(rows)
    group.NumberOfWaveformSamples = int(counts.shape[1])
    group.SamplingFrequency = f"{float(rec.fs):g}"
    group.MultiplexGroupLabel = "RHYTHM"
    channels = []
    for name, gain in zip(leads, sensitivity, strict=True):
        channel = Dataset()
        channel.ChannelSourceSequence = DicomSequence([_code(SCPECG_CODES[name], "SCPECG", f"Lead {name}")])
        channel.ChannelSensitivity = f"{gain:g}"
        channel.ChannelSensitivityUnitsSequence = DicomSequence([_code("uV", "UCUM", "microvolt")])
        channel.ChannelSensitivityCorrectionFactor = "1"
        channel.ChannelBaseline = "0"
        channel.ChannelSampleSkew = "0"
        channel.WaveformBitsStored = 16
        channels.append(channel)
    group.ChannelDefinitionSequence = DicomSequence(channels)
    group.WaveformBitsAllocated = 16
    group.WaveformSampleInterpretation = "SS"
    group.WaveformData = counts.T.tobytes()  # interleaved: sample-major, channel-minor
    ds.WaveformSequence = DicomSequence([group])
    ds.save_as(path, enforce_file_format=True)
    return path
