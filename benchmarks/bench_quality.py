"""Signal quality on every clean real record the project holds, and its speed.

    .venv/bin/python benchmarks/bench_quality.py [--data ../shared/data] [--features]

Runs ``measurements.quality.assess_quality`` on LUDB (100 records; the shared copy scales every lead
to span exactly 1 unit, so not mV: ``amplitudes_in_mv=False``), CinC 2021 (10, mV) and ptbxl-sph
(1,568, band-passed and z-scored: ``amplitudes_in_mv=False``) and prints, per data set, the verdict
counts, the reason-code counts (every code on these records is a false alarm unless the record
really is noisy), how many of the records rated good are caught when their LA/RA or RA/LL
electrodes are swapped, and the time per record. ``--features`` also prints percentiles of the raw
features the thresholds are set on.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

import numpy as np

from measurements.quality import assess_quality
from measurements.quality_features import quality_features

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def la_ra_swap(x: np.ndarray) -> np.ndarray:
    """LA and RA electrodes exchanged: I -> -I, II <-> III, aVR <-> aVL."""
    y = x.copy()
    y[0], y[1], y[2], y[3], y[4] = -x[0], x[2], x[1], x[4], x[3]
    return y


def ra_ll_swap(x: np.ndarray) -> np.ndarray:
    """RA and LL electrodes exchanged: I -> -III, II -> -II, III -> -I, aVR <-> aVF."""
    y = x.copy()
    y[0], y[1], y[2], y[3], y[5] = -x[2], -x[1], -x[0], x[5], x[3]
    return y


def load_mv(folder: Path) -> list[tuple[str, np.ndarray, float]]:
    from ingest.detect import read_recording

    out = []
    for header in sorted(folder.glob("*.hea"), key=lambda p: (len(p.stem), p.stem)):
        rec = read_recording(header)
        out.append((header.stem, rec.signal, rec.fs))
    return out


def load_ptbxl(folder: Path) -> list[tuple[str, np.ndarray, float]]:
    from model.training.data import read_sph_dataset

    data = read_sph_dataset(folder)
    return [(i, s.astype(np.float32), data.fs) for i, s in zip(data.ecg_ids, data.signals, strict=True)]


def report(name: str, records: list[tuple[str, np.ndarray, float]], in_mv: bool, show_features: bool) -> None:
    verdicts: Counter[str] = Counter()
    codes: Counter[str] = Counter()
    flagged: list[str] = []
    seconds = []
    cpu_seconds = []
    verdict_list = []
    for rid, signal, fs in records:
        t0, c0 = time.perf_counter(), time.process_time()
        q = assess_quality(signal, fs, amplitudes_in_mv=in_mv)
        seconds.append(time.perf_counter() - t0)
        cpu_seconds.append(time.process_time() - c0)
        verdicts[q.verdict] += 1
        verdict_list.append(q.verdict)
        record_codes = set(q.problems) | {c for lead in q.leads for c in lead.problems}
        codes.update(record_codes)
        if record_codes:
            lead_codes = [f"{lead.lead}:{'+'.join(lead.problems)}" for lead in q.leads if lead.problems]
            flagged.append(f"{rid} {q.verdict} {list(q.problems)} {lead_codes}")
    n = len(records)
    print(f"\n== {name}: {n} records ({'mV' if in_mv else 'z-scored'})")
    print("verdicts:", dict(verdicts), f"unreadable rate {verdicts['unreadable'] / n:.3f}")
    print("records with any code:", len(flagged), f"({len(flagged) / n:.3f})", "codes:", dict(codes))
    for line in flagged[:15]:
        print("  ", line)
    good = [(rid, s, fs) for (rid, s, fs), v in zip(records, verdict_list, strict=True) if v == "good"]
    for swap_name, swap, code in (
        ("LA/RA", la_ra_swap, "limb_reversal_la_ra"),
        ("RA/LL", ra_ll_swap, "limb_reversal_ra_ll"),
    ):
        hits = sum(
            code in assess_quality(swap(s.astype(np.float64)), fs, amplitudes_in_mv=in_mv).problems
            for _, s, fs in good
        )
        print(
            f"{swap_name} swap of the {len(good)} good records detected: {hits} ({hits / max(1, len(good)):.3f})"
        )
    ms = 1000 * np.asarray(seconds)
    cpu = 1000 * np.asarray(cpu_seconds)
    print(f"time per record: wall median {np.median(ms):.2f} ms (p90 {np.percentile(ms, 90):.2f}), "
          f"CPU median {np.median(cpu):.2f} ms (p90 {np.percentile(cpu, 90):.2f})")
    if show_features:
        feats = [quality_features(s.astype(np.float64), fs) for _, s, fs in records]
        for key in ("ptp", "rail_runs", "rail_longest_s", "wander", "noise_rms", "qrs_amplitude"):
            values = np.concatenate([getattr(f, key) for f in feats])
            print(
                f"  {key:14s} p1 {np.percentile(values, 1):.4f} p50 {np.median(values):.4f} "
                f"p99 {np.percentile(values, 99):.4f} max {values.max():.4f}"
            )
        ratio = np.concatenate([f.noise_rms / f.qrs_amplitude for f in feats])
        print(
            f"  noise/qrs      p50 {np.median(ratio):.4f} p99 {np.percentile(ratio, 99):.4f} max {ratio.max():.4f}"
        )
        for hz in (50.0, 60.0):
            amp = np.concatenate([f.mains_amplitude[hz] for f in feats])
            rat = np.concatenate([f.mains_ratio[hz] for f in feats])
            print(
                f"  mains {hz:.0f} amp p99 {np.nanpercentile(amp, 99):.4f} max {np.nanmax(amp):.4f}; "
                f"ratio p99 {np.nanpercentile(rat, 99):.1f} max {np.nanmax(rat):.1f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--features", action="store_true")
    parser.add_argument("--skip-ptbxl", action="store_true")
    args = parser.parse_args()
    report("LUDB", load_mv(args.data / "ludb"), False, args.features)
    report("CinC 2021", load_mv(args.data / "cinc2021"), True, args.features)
    if not args.skip_ptbxl:
        report("ptbxl-sph", load_ptbxl(args.data / "ptbxl-sph"), False, args.features)


if __name__ == "__main__":
    main()
