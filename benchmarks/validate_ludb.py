"""Validate global PR, QRS and QT against LUDB's cardiologists (IEC 60601-2-25 / CSE tolerances).

Reference per record (documented in docs/measurements.md): the cardiologists annotated onset, peak
and offset of P, QRS and T in every lead separately. Per beat (the QRS annotations whose peaks lie
within 80 ms of each other, >= 6 leads), the global QRS onset is the second-earliest QRS onset over
the annotated leads and the QRS offset the second-latest offset (``--rank 0``: the earliest /
latest); the global P onset the second-earliest P onset before that QRS, the T end the second-latest
T offset after it. Per beat PR = QRS on - P on, QRS = QRS off - QRS on, QT = T end - QRS on; the
record's reference is the median over its beats. ``--method`` compares ecgstream with ECGdeli,
wavedet and their median (``benchmarks/ludb_delineators.py``, the ``bench`` extra) on the same
records and reference; ``--halves`` adds the odd and even records (choose on one, check on the other).

    .venv/bin/python benchmarks/validate_ludb.py [--data ../shared/data/ludb] [--records 1-100|odd|even]
        [--method ecgstream,ecgdeli,wavedet,combined,neurokit | all] [--halves] [--worst N] [--rank 0|1]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from measurements import measure  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "ludb"
LEADS = ("i", "ii", "iii", "avr", "avl", "avf", "v1", "v2", "v3", "v4", "v5", "v6")
TOLERANCE = {"pr_ms": (10.0, 10.0), "qrs_ms": (10.0, 10.0), "qt_ms": (25.0, 30.0)}  # |mean|, SD
INTERVALS = ("pr_ms", "qrs_ms", "qt_ms")
# 0: the earliest onset / latest offset over the leads; 1: the second (one outlying lead ignored).
RANK = 1


def load_record(path: Path) -> tuple[np.ndarray, float]:
    """(12, N) mV signal in STANDARD_LEADS order and its rate."""
    import wfdb

    rec = wfdb.rdrecord(str(path))
    order = [rec.sig_name.index(name) for name in LEADS]
    return np.asarray(rec.p_signal[:, order].T, dtype=np.float64), float(rec.fs)


def _waves(path: Path, lead: str) -> list[tuple[str, int, int, int]]:
    import wfdb

    ann = wfdb.rdann(str(path), lead)
    out = []
    symbols, samples = ann.symbol, ann.sample
    for i in range(1, len(symbols) - 1):
        if symbols[i] in ("p", "N", "t") and symbols[i - 1] == "(" and symbols[i + 1] == ")":
            out.append((symbols[i], int(samples[i - 1]), int(samples[i]), int(samples[i + 1])))
    return out


def reference(path: Path, fs: float = 500.0) -> dict[str, float | None]:
    """The record's reference PR, QRS, QT (ms) from all leads' annotations (see module docstring)."""
    waves = [w for lead in LEADS for w in _waves(path, lead)]
    qrs = sorted((w for w in waves if w[0] == "N"), key=lambda w: w[2])
    beats: list[list[tuple[str, int, int, int]]] = []
    for w in qrs:
        if beats and w[2] - beats[-1][0][2] <= 0.08 * fs:
            beats[-1].append(w)
        else:
            beats.append([w])
    per_beat: dict[str, list[float]] = {name: [] for name in INTERVALS}
    peaks = [float(np.median([w[2] for w in b])) for b in beats]
    for k, group in enumerate(beats):
        if len(group) < 6:
            continue
        ons, offs = sorted(w[1] for w in group), sorted((w[3] for w in group), reverse=True)
        on, off, peak = ons[RANK], offs[RANK], peaks[k]
        prev_peak = peaks[k - 1] if k > 0 else -math.inf
        next_peak = peaks[k + 1] if k + 1 < len(peaks) else math.inf
        p_on = [w[1] for w in waves if w[0] == "p" and prev_peak < w[2] < peak and w[3] <= on + 0.02 * fs]
        t_off = [w[3] for w in waves if w[0] == "t" and peak < w[2] < next_peak]
        per_beat["qrs_ms"].append(off - on)
        if len(p_on) > RANK:
            per_beat["pr_ms"].append(on - sorted(p_on)[RANK])
        if len(t_off) > RANK:
            per_beat["qt_ms"].append(sorted(t_off, reverse=True)[RANK] - on)
    ms = 1000.0 / fs
    return {name: float(np.median(v)) * ms if v else None for name, v in per_beat.items()}


def ours(signal: np.ndarray, fs: float) -> dict[str, float | None]:
    """Our intervals; ``paced`` 1.0 when pacing spikes were detected (intervals then null by design)."""
    m = measure(signal, fs)
    return {**{name: getattr(m, name) for name in INTERVALS}, "paced": 1.0 if m.paced else None}


def neurokit_lead_ii(method: str) -> Callable[[np.ndarray, float], dict[str, float | None]]:
    """neurokit2's own delineation on lead II (median over beats), for comparison."""

    def run(signal: np.ndarray, fs: float) -> dict[str, float | None]:
        import neurokit2 as nk

        try:
            clean = nk.ecg_clean(signal[1], sampling_rate=int(fs))
            _, info = nk.ecg_peaks(clean, sampling_rate=int(fs))
            _, waves = nk.ecg_delineate(clean, info["ECG_R_Peaks"], sampling_rate=int(fs), method=method)
        except Exception:  # neurokit2 raises on some paced/ectopic records: count as not measured
            return dict.fromkeys(INTERVALS)

        def med(a: str, b: str) -> float | None:
            x = np.asarray(waves.get(b), dtype=float) - np.asarray(waves.get(a), dtype=float)
            x = x[np.isfinite(x)]
            return float(np.median(x)) * 1000.0 / fs if x.size else None

        return {"pr_ms": med("ECG_P_Onsets", "ECG_R_Onsets"), "qrs_ms": med("ECG_R_Onsets", "ECG_R_Offsets"),
                "qt_ms": med("ECG_R_Onsets", "ECG_T_Offsets")}  # fmt: skip

    return run


@dataclass
class Agreement:
    name: str
    n_measured: int
    n_null: int
    mean: float
    sd: float
    n_paced: int = 0  # null because pacing was detected (not counted in n_null)


Row = tuple[str, dict[str, float | None], dict[str, float | None]]  # record, reference, method


def run_records(
    records: Iterable[Path], method: Callable[[np.ndarray, float], dict[str, float | None]]
) -> list[Row]:
    """The reference and the method's intervals, per record."""
    rows = []
    for path in records:
        signal, fs = load_record(path)
        rows.append((path.name, reference(path, fs), method(signal, fs)))
    return rows


def summarize(
    rows: Iterable[Row],
) -> tuple[dict[str, Agreement], dict[str, list[tuple[str, float, float]]]]:
    """Mean difference and SD (method - reference, ms) per interval, and the per-record pairs."""
    pairs: dict[str, list[tuple[str, float, float]]] = {name: [] for name in INTERVALS}
    nulls, paced = dict.fromkeys(INTERVALS, 0), dict.fromkeys(INTERVALS, 0)
    for record, ref, got in rows:
        for name in INTERVALS:
            if ref[name] is None:
                continue
            value = got[name]
            if value is None and got.get("paced"):
                paced[name] += 1
            elif value is None:
                nulls[name] += 1
            else:
                pairs[name].append((record, float(value), float(ref[name])))  # type: ignore[arg-type]
    out = {}
    for name in INTERVALS:
        d = np.array([v - r for _, v, r in pairs[name]])
        out[name] = Agreement(name, d.size, nulls[name], float(d.mean()) if d.size else math.nan,
                              float(d.std(ddof=1)) if d.size > 1 else math.nan, paced[name])  # fmt: skip
    return out, pairs


def compare(
    records: Iterable[Path], method: Callable[[np.ndarray, float], dict[str, float | None]]
) -> tuple[dict[str, Agreement], dict[str, list[tuple[str, float, float]]]]:
    """Mean difference and SD (method - reference, ms) per interval, and the per-record pairs."""
    return summarize(run_records(records, method))


def record_paths(data: Path, spec: str = "1-100") -> list[Path]:
    """Records ``lo-hi``, or ``odd`` / ``even`` of 1-100 (a split check of the chosen thresholds)."""
    if spec in ("odd", "even"):
        numbers = [i for i in range(1, 101) if i % 2 == (1 if spec == "odd" else 0)]
    else:
        lo, hi = (int(x) for x in spec.split("-"))
        numbers = list(range(lo, hi + 1))
    return [data / str(i) for i in numbers if (data / f"{i}.hea").exists()]


def _methods(names: Iterable[str]) -> dict[str, Callable[[np.ndarray, float], dict[str, float | None]]]:
    from benchmarks import ludb_delineators

    out: dict[str, Callable[[np.ndarray, float], dict[str, float | None]]] = {}
    for name in names:
        if name == "ecgstream":
            out["ecgstream (global, median beat)"] = ours
        elif name == "neurokit":
            out["neurokit2 dwt (lead II)"] = neurokit_lead_ii("dwt")
            out["neurokit2 prominence (lead II)"] = neurokit_lead_ii("prominence")
        else:
            out.update(ludb_delineators.METHODS[name]())
    return out


def _print_table(label: str, rows: list[Row], worst: int) -> None:
    table, pairs = summarize(rows)
    for name, a in table.items():
        tol = TOLERANCE[name]
        ok = abs(a.mean) <= tol[0] and a.sd <= tol[1]
        print(f"{label:34} {name:8} {a.n_measured:8d} {a.n_null:5d} {a.n_paced:5d} {a.mean:+7.1f} {a.sd:7.1f}  "
              f"|mean|<={tol[0]:g} SD<={tol[1]:g} {'ok' if ok else 'NOT MET'}")  # fmt: skip
        if worst:
            top = sorted(pairs[name], key=lambda p: -abs(p[1] - p[2]))[:worst]
            print("    worst: " + ", ".join(f"{r}:{v - ref:+.0f}" for r, v, ref in top))


METHOD_CHOICES = ("ecgstream", "ecgdeli", "wavedet", "combined", "neurokit")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--records", default="1-100", help="lo-hi, odd or even")
    parser.add_argument(
        "--method",
        default="ecgstream",
        help=f"comma-separated, of {', '.join(METHOD_CHOICES)} or all (all but neurokit; ecgdeli, wavedet, combined need the bench extra)",
    )
    parser.add_argument("--neurokit", action="store_true", help="also run neurokit2's dwt and prominence")
    parser.add_argument("--halves", action="store_true", help="also the odd and the even records separately")
    parser.add_argument("--worst", type=int, default=0, help="list the N largest differences per interval")
    parser.add_argument(
        "--rank",
        type=int,
        default=RANK,
        help="reference: 0 earliest onset / latest offset over leads, 1 second",
    )
    args = parser.parse_args()
    globals()["RANK"] = args.rank
    names = list(METHOD_CHOICES[:4]) if args.method == "all" else args.method.split(",")
    if any(n not in METHOD_CHOICES for n in names):
        parser.error(f"--method: choose from {', '.join(METHOD_CHOICES)} or all")
    if args.neurokit and "neurokit" not in names:
        names.append("neurokit")
    paths = record_paths(args.data, args.records)
    print(
        f"LUDB records {args.records} ({len(paths)}); reference rank {args.rank}; difference = method - reference, ms"
    )
    print(
        f"{'method':34} {'interval':8} {'measured':>8} {'null':>5} {'paced':>5} {'mean':>7} {'SD':>7}  tolerance"
    )
    for label, method in _methods(names).items():
        t0 = time.perf_counter()
        rows = run_records(paths, method)
        _print_table(label, rows, args.worst)
        if args.halves:
            for half, parity in (("odd", 1), ("even", 0)):
                _print_table(f"  {half}", [r for r in rows if int(r[0]) % 2 == parity], args.worst)
        print(f"{'':34} ({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
