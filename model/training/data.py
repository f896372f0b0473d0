"""A small reader of SPH-layout data sets (metadata.csv, code.csv, records/<ECG_ID>.h5) and the split.

The whole data set is cached in memory as float16 (1,568 x 12 x 5000 is ~190 MB).
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from model.labels import Label, multi_hot, parse_aha_codes, read_code_table

__all__ = ["SphDataset", "read_sph_dataset", "patient_split", "SPLIT_FRACTIONS"]

logger = logging.getLogger(__name__)
SPLIT_FRACTIONS = (0.70, 0.15, 0.15)


@dataclass
class SphDataset:
    """Records of one SPH-layout folder, in metadata order."""

    ecg_ids: list[str]
    patient_ids: list[str]
    signals: list[np.ndarray]  # each (12, N) float16
    fs: float
    ages: list[float | None]
    sexes: list[str | None]
    codes: list[list[int]]
    labels: tuple[Label, ...]

    def targets(self) -> np.ndarray:
        """(B, L) multi-hot targets in ``labels`` order."""
        return multi_hot(self.codes, self.labels)

    def subset(self, index: np.ndarray) -> SphDataset:
        idx = [int(i) for i in index]
        return SphDataset(
            [self.ecg_ids[i] for i in idx], [self.patient_ids[i] for i in idx], [self.signals[i] for i in idx],
            self.fs, [self.ages[i] for i in idx], [self.sexes[i] for i in idx], [self.codes[i] for i in idx],
            self.labels,
        )  # fmt: skip


def _age(text: str) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if np.isfinite(value) and 0 <= value < 130 else None


def read_sph_dataset(folder: str | Path, fs: float = 500.0, limit: int | None = None) -> SphDataset:
    """Read metadata, code table and every ``records/<ECG_ID>.h5`` (dataset ``ecg``) of ``folder``."""
    folder = Path(folder)
    labels = read_code_table(folder / "code.csv")
    with open(folder / "metadata.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if limit is not None:
        rows = rows[:limit]
    signals = []
    for row in rows:
        with h5py.File(folder / "records" / f"{row['ECG_ID']}.h5", "r") as h5:
            signals.append(np.asarray(h5["ecg"][()], dtype=np.float16))
    sexes = [(r.get("Sex") or "").strip().upper()[:1] or None for r in rows]
    dataset = SphDataset(
        ecg_ids=[r["ECG_ID"] for r in rows],
        patient_ids=[str(r["Patient_ID"]) for r in rows],
        signals=signals,
        fs=fs,
        ages=[_age(r.get("Age", "")) for r in rows],
        sexes=[s if s in ("M", "F") else None for s in sexes],
        codes=[parse_aha_codes(r["AHA_Code"]) for r in rows],
        labels=labels,
    )
    logger.info("data set read", extra={"records": len(rows), "labels": len(labels)})
    return dataset


def patient_split(
    patient_ids: list[str], seed: int = 0, fractions: tuple[float, float, float] = SPLIT_FRACTIONS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Record indices (train, val, test); every patient's records land in exactly one split."""
    patients = sorted(set(patient_ids))
    order = np.random.default_rng(seed).permutation(len(patients))
    n_train = int(round(fractions[0] * len(patients)))
    n_val = int(round(fractions[1] * len(patients)))
    which: dict[str, int] = {}
    for rank, p in enumerate(order):
        which[patients[p]] = 0 if rank < n_train else (1 if rank < n_train + n_val else 2)
    parts = np.asarray([which[p] for p in patient_ids])
    return tuple(np.flatnonzero(parts == k) for k in range(3))  # type: ignore[return-value]
