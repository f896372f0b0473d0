"""Regression snapshot of every measurement, quality and rule output on real records.

    .venv/bin/python benchmarks/measurement_snapshot.py --write /tmp/before.json
    .venv/bin/python benchmarks/measurement_snapshot.py --compare /tmp/before.json [--rtol 1e-9]

Runs ``assess_quality`` -> ``measure`` -> ``rule_statements`` as the stream worker does (float32 mV
signals from ``ingest.read_recording``) on the 100 LUDB records, the 10 CinC 2021 records and every
8th ptbxl-sph record (196; z-scored: ``amplitudes_in_mv=False``), and dumps every output field: the
Measurements (beats, classes, P per beat, intervals, axes, voltages, missing reasons, paced), the
quality report with its raw features and beat template, the pacing spike ratio, and the rule statements with their evidence.
``--compare`` reruns and diffs against a dump: categorical values (beats, classes, reasons, verdicts,
codes, statements, null / non-null) must be equal; floats within ``--rtol`` (0: bit-identical).
Exits 1 on any difference.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from measurements import measure  # noqa: E402
from measurements.filters import diagnostic_band  # noqa: E402
from measurements.pacing import spike_ratio  # noqa: E402
from measurements.quality import assess_quality  # noqa: E402
from measurements.quality_beats import beat_template  # noqa: E402
from measurements.quality_features import quality_features  # noqa: E402
from measurements.rules import rule_statements  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
PTBXL_STEP = 8

Record = tuple[str, np.ndarray, float, bool, str | None, float | None]


def _wfdb_records(folder: Path, in_mv: bool) -> Iterator[Record]:
    from ingest.detect import read_recording

    for header in sorted(folder.glob("*.hea"), key=lambda p: (len(p.stem), p.stem)):
        rec = read_recording(header)
        yield f"{folder.name}/{header.stem}", rec.signal, rec.fs, in_mv, rec.sex, rec.age


def _ptbxl_records(folder: Path) -> Iterator[Record]:
    import h5py

    with open(folder / "metadata.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))[::PTBXL_STEP]
    for row in rows:
        with h5py.File(folder / "records" / f"{row['ECG_ID']}.h5", "r") as h5:
            signal = np.asarray(h5["ecg"][()], dtype=np.float32)
        sex = (row.get("Sex") or "").strip().upper()[:1] or None
        age = float(row["Age"]) if row.get("Age", "").strip() else None
        yield f"ptbxl/{row['ECG_ID']}", signal, 500.0, False, sex, age


def records(data: Path) -> Iterator[Record]:
    yield from _wfdb_records(data / "ludb", False)
    yield from _wfdb_records(data / "cinc2021", True)
    yield from _ptbxl_records(data / "ptbxl-sph")


def _plain(value: Any) -> Any:
    """JSON-ready copy: arrays to lists, floats kept exact (NaN/inf as strings)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return value


def snapshot_one(signal: np.ndarray, fs: float, in_mv: bool, sex: str | None, age: float | None) -> dict:
    q = assess_quality(signal, fs, amplitudes_in_mv=in_mv)
    m = measure(signal, fs)
    rules = rule_statements(m, q, sex=sex, age=age, amplitudes_valid=in_mv)
    x = np.asarray(signal, dtype=np.float64)
    feats = quality_features(x, fs)
    template = beat_template(np.where(np.isfinite(x), x, 0.0), feats.qrs_band, fs)
    meas = {f.name: getattr(m, f.name) for f in fields(m) if f.name != "beats"}
    meas["beats"] = {"r_peaks": m.beats.r_peaks, "classes": m.beats.classes, "p_present": m.beats.p_present}
    if m.beats.r_peaks.size:  # the pacing spike ratio behind ``paced`` (a float, more sensitive)
        meas["spike_ratio"] = spike_ratio(x, diagnostic_band(x, fs), m.beats.r_peaks, fs)
    return _plain(
        {
            "measurements": meas,
            "quality": {
                "verdict": q.verdict,
                "problems": q.problems,
                "leads": [[lead.lead, lead.verdict, lead.problems] for lead in q.leads],
            },
            "quality_features": {
                f.name: getattr(feats, f.name) for f in fields(feats) if f.name not in ("qrs_band", "fs")
            },
            "beat_template": {f.name: getattr(template, f.name) for f in fields(template)},
            "rules": [[r.code, r.evidence, r.modifies, r.requirement] for r in rules],
        }
    )


def _diff(a: Any, b: Any, path: str, rtol: float, out: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                out.append(f"{path}.{key}: only in {'before' if key in a else 'after'}")
            else:
                _diff(a[key], b[key], f"{path}.{key}", rtol, out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{path}: length {len(a)} -> {len(b)}")
        else:
            for i, (u, v) in enumerate(zip(a, b, strict=True)):
                _diff(u, v, f"{path}[{i}]", rtol, out)
    elif isinstance(a, float) and isinstance(b, float) and not isinstance(a, bool):
        if a != b and not math.isclose(a, b, rel_tol=rtol, abs_tol=rtol):
            out.append(f"{path}: {a!r} -> {b!r}")
    elif a != b or type(a) is not type(b):
        if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool) and a == b:
            return
        out.append(f"{path}: {a!r} -> {b!r}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", type=Path, help="dump the snapshot to this JSON file")
    group.add_argument("--compare", type=Path, help="diff against this earlier dump")
    parser.add_argument("--rtol", type=float, default=0.0, help="relative (and absolute) float tolerance")
    args = parser.parse_args()
    snap = {rid: snapshot_one(s, fs, mv, sex, age) for rid, s, fs, mv, sex, age in records(args.data)}
    if args.write:
        args.write.write_text(json.dumps(snap, sort_keys=True))
        print(f"{len(snap)} records written to {args.write}")
        return 0
    before = json.loads(args.compare.read_text())
    differences: list[str] = []
    _diff(before, json.loads(json.dumps(snap)), "", args.rtol, differences)
    for line in differences[:200]:
        print(line)
    print(f"{len(snap)} records compared (rtol {args.rtol}): {len(differences)} differences")
    return 1 if differences else 0


if __name__ == "__main__":
    raise SystemExit(main())
