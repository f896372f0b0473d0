"""Write recordings in the SPH data-set layout (``records/<ECG_ID>.h5`` + ``metadata.csv`` + ``code.csv``)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

import h5py
import numpy as np

from schemas.recording import Recording

__all__ = ["write_sph_record", "write_sph_folder", "write_sph_tables", "METADATA_COLUMNS"]

METADATA_COLUMNS = ("ECG_ID", "AHA_Code", "Patient_ID", "Age", "Sex", "N", "Date")


def write_sph_record(signal: np.ndarray, path: str | Path) -> Path:
    """One SPH record file: dataset ``ecg``, (12, N) float16 mV. The file stores no sampling rate (500 Hz)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as h5:
        h5.create_dataset("ecg", data=np.asarray(signal, dtype=np.float16))
    return path


def write_sph_folder(
    folder: str | Path,
    recordings: Iterable[tuple[Recording, str]],
    codes: Sequence[tuple[str, str, str]] = (),
) -> Path:
    """Write (recording, AHA_Code) pairs as an SPH data set. Recordings must already be at 500 Hz."""
    folder = Path(folder)
    rows = []
    for index, (recording, aha_code) in enumerate(recordings):
        if abs(recording.fs - 500.0) > 1e-6:
            raise ValueError(f"SPH records are 500 Hz; {recording.recording_id} is {recording.fs} Hz")
        ecg_id = recording.recording_id
        write_sph_record(recording.signal, folder / "records" / f"{ecg_id}.h5")
        when = recording.acquired_at.date().isoformat() if recording.acquired_at else ""
        rows.append([ecg_id, aha_code, recording.patient_ref or f"P{index:05d}", recording.age or "",
                     recording.sex or "", recording.n_samples, when])  # fmt: skip
    write_sph_tables(folder, rows, codes)
    return folder


def write_sph_tables(
    folder: str | Path, rows: Iterable[Sequence[object]], codes: Iterable[Sequence[object]]
) -> None:
    """``metadata.csv`` (``METADATA_COLUMNS``, one row per record) and ``code.csv`` of an SPH folder."""
    folder = Path(folder)
    with open(folder / "metadata.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(METADATA_COLUMNS)
        writer.writerows(rows)
    with open(folder / "code.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Category", "Code", "Description"])
        writer.writerows(codes)
