"""The synthetic SPH-layout generator writes the exact layout and plants real signal features."""

from __future__ import annotations

import csv
from pathlib import Path

import h5py
import numpy as np

from ingest.synthetic import simulate_ecg, write_sph_dataset
from model.labels import parse_aha_codes


def test_layout(tmp_path: Path) -> None:
    folder = write_sph_dataset(tmp_path / "sph", 30, seed=3)
    with open(folder / "metadata.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["ECG_ID", "AHA_Code", "Patient_ID", "Age", "Sex", "N", "Date"]
    with open(folder / "code.csv", newline="") as handle:
        codes = list(csv.DictReader(handle))
    assert len(codes) == 59 and sum(c["Category"] == "Modifier" for c in codes) == 15
    assert any(";" in r["AHA_Code"] for r in rows) and any("+" in r["AHA_Code"] for r in rows)
    with h5py.File(folder / "records" / f"{rows[0]['ECG_ID']}.h5") as h5:
        ecg = h5["ecg"][()]
    assert ecg.shape == (12, 5000) and ecg.dtype == np.float16 and int(rows[0]["N"]) == 5000
    assert all(parse_aha_codes(r["AHA_Code"]) for r in rows)


def _beats(x: np.ndarray, fs: float = 500.0) -> int:
    from scipy.signal import find_peaks

    lead = x[1] - np.median(x[1])
    peaks, _ = find_peaks(lead, height=0.5 * lead.max(), distance=int(0.25 * fs))
    return len(peaks)


def test_planted_heart_rate_is_real() -> None:
    rng = np.random.default_rng(0)
    assert _beats(simulate_ecg(rng, hr=130)) >= 19
    assert _beats(simulate_ecg(rng, hr=45)) <= 9
