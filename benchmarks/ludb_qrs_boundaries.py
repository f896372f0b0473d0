"""Where the QRS duration error against LUDB's cardiologists comes from, and what the boundary
thresholds would change.

    .venv/bin/python benchmarks/ludb_qrs_boundaries.py [--data ../shared/data/ludb] [--top 10]

1. Onset and offset separately: per record, our median-beat QRS onset / offset relative to R minus
   the reference's (second-earliest onset / second-latest offset over the leads, relative to the
   same R peak, median over the dominant beats), in ms (+ = ours later).
2. A grid over ``DelineationParams`` (QRS on / off fractions, hold time, J-point settle window),
   re-delineating the same median beats: QRS, PR and QT mean +- SD on the odd records (where a
   threshold would be chosen) and the even ones (the check), ranked by the odd records' QRS RMS
   error. PR here counts every P onset the delineation finds where ``measure`` kept one (it drops
   P waves that do not repeat beat to beat), so PR and QT are close to, not exactly,
   ``validate_ludb.py``'s. Records where pacing is detected are left out, as there.
"""

from __future__ import annotations

import argparse
import importlib
import itertools
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.validate_ludb import DEFAULT_DATA, LEADS, _waves, load_record, record_paths, reference  # noqa: E402
from measurements import Measurements, measure  # noqa: E402
from measurements.delineation import DelineationParams, delineate  # noqa: E402
from measurements.template import MedianBeat  # noqa: E402

LIMITS = {"qrs": (40.0, 220.0), "pr": (60.0, 400.0), "qt": (200.0, 700.0)}


@dataclass
class Case:
    number: int
    beat: MedianBeat
    m: Measurements
    ref: dict[str, float | None]
    onset_error_ms: float | None
    offset_error_ms: float | None


def _reference_bounds(
    path: Path, r_peaks: np.ndarray, dominant: np.ndarray, fs: float
) -> tuple[float, float] | None:
    """Median over dominant beats of the reference QRS onset / offset relative to our R peak (samples)."""
    qrs = sorted((w for lead in LEADS for w in _waves(path, lead) if w[0] == "N"), key=lambda w: w[2])
    groups: list[list[tuple[str, int, int, int]]] = []
    for w in qrs:
        if groups and w[2] - groups[-1][0][2] <= 0.08 * fs:
            groups[-1].append(w)
        else:
            groups.append([w])
    on, off = [], []
    for g in groups:
        k = int(np.argmin(np.abs(r_peaks - np.median([w[2] for w in g]))))
        if len(g) >= 6 and dominant[k] and abs(r_peaks[k] - np.median([w[2] for w in g])) <= 0.08 * fs:
            on.append(sorted(w[1] for w in g)[1] - r_peaks[k])
            off.append(sorted((w[3] for w in g), reverse=True)[1] - r_peaks[k])
    return (float(np.median(on)), float(np.median(off))) if on else None


def cases(data: Path) -> list[Case]:
    """Every LUDB record with its median beat (captured from ``measure``) and reference."""
    module = importlib.import_module("measurements.measure")
    original, seen = getattr(module, "delineate"), {}  # noqa: B009 - typed as a plain module

    def capture(beat: MedianBeat, params: DelineationParams | None = None):  # type: ignore[no-untyped-def]
        seen["beat"] = beat
        return original(beat, params)

    setattr(module, "delineate", capture)  # noqa: B010 - capture the median beat measure builds
    out = []
    try:
        for path in record_paths(data):
            signal, fs = load_record(path)
            seen.clear()
            m = measure(signal, fs)
            if "beat" not in seen or m.paced:
                continue
            beat, fid = seen["beat"], original(seen["beat"])
            dominant = np.array([c == "N" for c in m.beats.classes])
            bounds = _reference_bounds(path, m.beats.r_peaks, dominant, fs)
            on_err = off_err = None
            if bounds and fid.qrs_on is not None and fid.qrs_off is not None:
                on_err = (fid.qrs_on - beat.r_index - bounds[0]) * 1000.0 / fs
                off_err = (fid.qrs_off - beat.r_index - bounds[1]) * 1000.0 / fs
            out.append(Case(int(path.name), beat, m, reference(path, fs), on_err, off_err))
    finally:
        setattr(module, "delineate", original)  # noqa: B010
    return out


def agreement(
    all_cases: list[Case], params: DelineationParams
) -> dict[tuple[str, str], tuple[float, float, int]]:
    diffs: dict[tuple[str, str], list[float]] = {}
    for c in all_cases:
        fid = delineate(c.beat, params)
        if fid.qrs_on is None:
            continue
        ms, half = 1000.0 / c.beat.fs, "odd" if c.number % 2 else "even"
        values = {
            "qrs": None if fid.qrs_off is None else (fid.qrs_off - fid.qrs_on) * ms,
            "pr": None if fid.p_on is None or c.m.pr_ms is None else (fid.qrs_on - fid.p_on) * ms,
            "qt": None if fid.t_end is None else (fid.t_end - fid.qrs_on) * ms,
        }
        for name, value in values.items():
            ref = c.ref[f"{name}_ms"]
            if value is not None and ref is not None and LIMITS[name][0] <= value <= LIMITS[name][1]:
                diffs.setdefault((name, half), []).append(value - ref)
    return {k: (float(np.mean(v)), float(np.std(v, ddof=1)), len(v)) for k, v in diffs.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args()
    all_cases = cases(args.data)
    print("1. QRS boundary errors, ours - reference, ms (+ = ours later)")
    for half, rest in (("all", None), ("odd", 1), ("even", 0)):
        sel = [
            c for c in all_cases if c.onset_error_ms is not None and (rest is None or c.number % 2 == rest)
        ]
        onset = np.array([c.onset_error_ms for c in sel])
        offset = np.array([c.offset_error_ms for c in sel])
        print(f"   {half:4} n={onset.size:3d}  onset {onset.mean():+5.1f} +- {onset.std(ddof=1):4.1f}   "
              f"offset {offset.mean():+5.1f} +- {offset.std(ddof=1):4.1f}")  # fmt: skip
    print("\n2. Grid, ranked by the odd records' QRS RMS error (mean +- SD (n), ms)")
    fmt = "{:+.1f}+-{:.1f}({})".format
    grid = itertools.product(
        [0.01, 0.02, 0.03, 0.04, 0.05], [0.01, 0.02, 0.03, 0.04], [0.004, 0.006, 0.010], [0.0, 0.01]
    )
    rows = []
    for on, off, hold, settle in grid:
        params = DelineationParams(
            qrs_on_fraction=on, qrs_off_fraction=off, hold_s=hold, qrs_off_settle_s=settle
        )
        a = agreement(all_cases, params)
        rows.append((float(np.hypot(*a[("qrs", "odd")][:2])), (on, off, hold, settle), a))
    default = DelineationParams()
    current = (default.qrs_on_fraction, default.qrs_off_fraction, default.hold_s, default.qrs_off_settle_s)
    rows.sort(key=lambda r: r[0])
    for rms, key, a in [r for r in rows if r[1] == current] + rows[: args.top]:
        label = "current" if key == current else ""
        print(f"   {label:7} on {key[0]:.2f} off {key[1]:.2f} hold {key[2] * 1000:.0f} ms settle {key[3] * 1000:.0f} ms"
              f"  RMS {rms:4.1f}  QRS odd {fmt(*a[('qrs', 'odd')])} even {fmt(*a[('qrs', 'even')])}"
              f"  PR odd {fmt(*a[('pr', 'odd')])} even {fmt(*a[('pr', 'even')])}"
              f"  QT odd {fmt(*a[('qt', 'odd')])} even {fmt(*a[('qt', 'even')])}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
