"""Timing criteria on ptbxl-sph (z-scored: timing survives, amplitudes do not) against its labels.

Sensitivity / specificity over all records of: 21 sinus tachycardia (HR > 100 bpm), 22 sinus
bradycardia (HR < 60), 82 first-degree AV block (PR > 200 ms), 148 prolonged QT (QTc Bazett >= 460 ms
in women, >= 450 ms in men: AHA/ACCF/HRS 2009 part IV), and the QRS-width gate (QRS >= 120 ms) for
104/106 (complete LBBB / RBBB). A record whose measurement is null counts as criterion not met.
Writes every record's Measurements fields to a CSV for the fusion work.

    nice -n 10 .venv/bin/python benchmarks/validate_ptbxl_timing.py [--data ../shared/data/ptbxl-sph]
        [--csv ../artifacts/ptbxl_measurements.csv]
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from measurements import Measurements, measure  # noqa: E402
from measurements.measure import SCALAR_FIELDS  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT / ".." / "shared" / "data" / "ptbxl-sph"
DEFAULT_CSV = ROOT / ".." / "artifacts" / "ptbxl_measurements.csv"


def _codes(aha: str) -> set[int]:
    out = set()
    for statement in str(aha).split(";"):
        head = statement.split("+")[0].strip()
        if head.isdigit():
            out.add(int(head))
    return out


def _qtc_long(m: Measurements, sex: str) -> bool:
    limit = 460.0 if sex == "F" else 450.0
    return m.qtc_bazett_ms is not None and m.qtc_bazett_ms >= limit


CRITERIA: dict[str, tuple[set[int], Callable[[Measurements, str], bool]]] = {
    "21 HR > 100": ({21}, lambda m, s: m.heart_rate_bpm is not None and m.heart_rate_bpm > 100),
    "22 HR < 60": ({22}, lambda m, s: m.heart_rate_bpm is not None and m.heart_rate_bpm < 60),
    "82 PR > 200": ({82}, lambda m, s: m.pr_ms is not None and m.pr_ms > 200),
    "148 QTc long (sex)": ({148}, _qtc_long),
    "104/106 QRS >= 120": ({104, 106}, lambda m, s: m.qrs_ms is not None and m.qrs_ms >= 120),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    args = parser.parse_args()
    import h5py
    import pandas as pd

    meta = pd.read_csv(args.data / "metadata.csv")
    hits = {name: np.zeros((2, 2), dtype=int) for name in CRITERIA}  # [label][fired]
    args.csv.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with args.csv.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["ECG_ID", *SCALAR_FIELDS, "beats_N", "beats_S", "beats_V", "beats_Q", "missing"])
        for row in meta.itertuples():
            with h5py.File(args.data / "records" / f"{row.ECG_ID}.h5", "r") as f:
                signal = np.asarray(f["ecg"][:], dtype=np.float64)
            m = measure(signal, 500.0)
            codes, sex = _codes(row.AHA_Code), str(row.Sex)
            for name, (labels, rule) in CRITERIA.items():
                hits[name][int(bool(codes & labels)), int(rule(m, sex))] += 1
            counts = m.beats.counts()
            values = []
            for field in SCALAR_FIELDS:
                v = getattr(m, field)
                values.append(
                    ";".join("" if x is None else f"{x:.4g}" for x in v)
                    if isinstance(v, tuple)
                    else ("" if v is None else f"{v:.5g}")
                )
            missing = ";".join(f"{k}={r}" for k, r in sorted(m.missing.items()))
            writer.writerow(
                [row.ECG_ID, *values, counts["N"], counts["S"], counts["V"], counts["Q"], missing]
            )
    elapsed = time.perf_counter() - t0
    print(f"ptbxl-sph: {len(meta)} records in {elapsed:.0f} s; CSV: {args.csv}")
    print(f"{'criterion':22} {'labelled':>8} {'TP':>5} {'FN':>5} {'FP':>5} {'TN':>6} {'sens':>6} {'spec':>6}")
    for name, h in hits.items():
        tp, fn, fp, tn = h[1, 1], h[1, 0], h[0, 1], h[0, 0]
        sens = tp / (tp + fn) if tp + fn else float("nan")
        spec = tn / (tn + fp) if tn + fp else float("nan")
        print(f"{name:22} {tp + fn:8d} {tp:5d} {fn:5d} {fp:5d} {tn:6d} {sens:6.3f} {spec:6.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
