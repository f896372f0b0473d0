"""Time ``measurements.measure`` per 10-s 500 Hz 12-lead record (LUDB records), single thread.

    .venv/bin/python benchmarks/bench_measurements.py [--data ../shared/data/ludb] [--repeat 3]

Prints a table of the per-record wall time (median, p90, max) over the records and the stage split.
The figure depends on machine load: say whether others were busy when you report it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.validate_ludb import DEFAULT_DATA, load_record, record_paths  # noqa: E402
from measurements import measure  # noqa: E402
from measurements.filters import diagnostic_band  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    records = [load_record(p) for p in record_paths(args.data)]
    measure(*records[0])  # imports and filter designs out of the timing
    totals, cpu, filters = [], [], []
    for _ in range(args.repeat):
        for signal, fs in records:
            t0 = time.perf_counter()
            diagnostic_band(signal, fs)
            t1, c1 = time.perf_counter(), time.process_time()
            measure(signal, fs)
            totals.append(time.perf_counter() - t1)
            cpu.append(time.process_time() - c1)
            filters.append(t1 - t0)
    print(f"measure() on {len(records)} LUDB records x {args.repeat} (12 x 5000 samples, 500 Hz)")
    print(f"{'stage':30} {'median ms':>10} {'p90 ms':>8} {'max ms':>8}")
    for label, values in (
        ("measure, wall", totals),
        ("measure, CPU (process time)", cpu),
        ("  of which band-pass, wall", filters),
    ):
        ms = np.array(values) * 1000
        print(f"{label:30} {np.median(ms):10.1f} {np.percentile(ms, 90):8.1f} {ms.max():8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
