"""The AF support rule (``measurements.rules_rhythm.is_af_like``) against labels: LUDB header rhythm
"Atrial fibrillation", ptbxl-sph statement 50, CinC 2021 SNOMED 164889003. Paced records are left out
(no rhythm statements on them).

    nice -n 10 .venv/bin/python benchmarks/validate_af_rule.py
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.validate_ludb import load_record  # noqa: E402
from benchmarks.validate_ptbxl_timing import _codes  # noqa: E402
from measurements import measure  # noqa: E402
from measurements.rules_rhythm import is_af_like  # noqa: E402

DATA = ROOT / ".." / "shared" / "data"


Record = tuple[str, str, np.ndarray, float]  # id, its labels as text (header or AHA codes), signal, rate


def ludb_records() -> Iterator[Record]:
    """LUDB 1-100 with the header text (its diagnoses)."""
    for i in range(1, 101):
        signal, fs = load_record(DATA / "ludb" / str(i))
        yield str(i), (DATA / "ludb" / f"{i}.hea").read_text(), signal, fs


def cinc_records() -> Iterator[Record]:
    """The CinC 2021 records with the header text (SNOMED codes)."""
    from ingest import read_recording

    for path in sorted((DATA / "cinc2021").glob("*.hea")):
        rec = read_recording(path)
        yield path.stem, path.read_text(), rec.signal, rec.fs


def ptbxl_records() -> Iterator[Record]:
    """ptbxl-sph with its AHA codes, one per line."""
    import h5py
    import pandas as pd

    for row in pd.read_csv(DATA / "ptbxl-sph" / "metadata.csv").itertuples():
        with h5py.File(DATA / "ptbxl-sph" / "records" / f"{row.ECG_ID}.h5", "r") as f:
            signal = np.asarray(f["ecg"][:], dtype=np.float64)
        yield str(row.ECG_ID), "\n".join(map(str, sorted(_codes(row.AHA_Code)))), signal, 500.0


def _is_af(set_name: str, labels: str) -> bool:
    if set_name == "ptbxl-sph":
        return "50" in labels.split()
    return ("Atrial fibrillation" if set_name == "LUDB" else "164889003") in labels


def main() -> int:
    for name, records in (("LUDB", ludb_records()), ("CinC", cinc_records()), ("ptbxl-sph", ptbxl_records())):
        counts = np.zeros((2, 2), dtype=int)  # [label][fired]
        false_pos, paced = [], 0
        for record, labels, signal, fs in records:
            label = _is_af(name, labels)
            m = measure(signal, fs)
            if m.paced:
                paced += 1
                continue
            fired = is_af_like(m)
            counts[int(label), int(fired)] += 1
            if fired and not label:
                false_pos.append(record)
        tp, fn, fp, tn = counts[1, 1], counts[1, 0], counts[0, 1], counts[0, 0]
        sens = f"{tp / (tp + fn):.3f}" if tp + fn else "-"
        print(f"{name}: TP {tp} FN {fn} FP {fp} TN {tn} (paced left out {paced}); sensitivity {sens}, "
              f"specificity {tn / max(1, tn + fp):.3f}; FP {false_pos[:10]}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
