"""The overread worklist (webapp.worklist_view.ranked_worklist + storage.worklist): milliseconds to rank every
unread recording and read page 1, on a filled database.

    .venv/bin/python benchmarks/bench_worklist.py --database postgresql+asyncpg://postgres@127.0.0.1:5432/test \\
        [--recordings 5000]

A scratch database beside the one named (dropped afterwards) or, for ``sqlite``, a temporary file; the
diagnoses (one in 97 with a heart rate of 35 bpm: critical) are written through the real sink with
measurements of the worker's size (12 leads), none overread; best of 5.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_history import SECRET, _admin, _result  # noqa: E402
from storage import SqlDiagnosisSink, create_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.worklist import worklist_views  # noqa: E402
from webapp.worklist_view import ranked_worklist  # noqa: E402

LEADS = "I II III aVR aVL aVF V1 V2 V3 V4 V5 V6".split()


def _measurements(index: int) -> dict[str, object]:
    return {"heart_rate_bpm": 35.0 if index % 97 == 0 else 72.0, "qrs_ms": 90.0, "qt_ms": 380.0,
            "qtc_fridericia_ms": 410.0, "beats": {"N": 12}, "missing": {"pr_ms": "no_p_waves"},
            "leads": [{"lead": lead, "qrs_amplitude_mv": 1.1, "st_j60_mv": 0.02} for lead in LEADS]}  # fmt: skip


async def _run(url: str, n: int) -> None:
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    try:
        sink = SqlDiagnosisSink(engine, hmac_secret=SECRET)
        for start in range(0, n, 500):
            await sink.write_batch([dataclasses.replace(_result(i), measurements=_measurements(i))
                                    for i in range(start, min(n, start + 500))])  # fmt: skip
        times = []
        for _ in range(5):
            began = time.perf_counter()
            ranked = await ranked_worklist(engine, None)
            await worklist_views(engine, [rid for _, _, rid in ranked[:25]])
            times.append(time.perf_counter() - began)
        critical = sum(1 for is_critical, _, _ in ranked if is_critical)
        print(f"{engine.dialect.name}: {len(ranked)} unread ({critical} critical), page 1 in {min(times) * 1000:.0f} ms")
    finally:
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="sqlite", help="a Postgres URL (a scratch database is made beside it) or sqlite")
    parser.add_argument("--recordings", type=int, default=5_000)
    args = parser.parse_args()
    scratch = f"ecgs_bench_{uuid.uuid4().hex[:8]}"
    if args.database == "sqlite":
        url = f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='ecgstream-bench-')}/worklist.db"
    else:
        await _admin(args.database, f'CREATE DATABASE "{scratch}"')
        url = f"{args.database.rpartition('/')[0]}/{scratch}"
    try:
        await _run(url, args.recordings)
    finally:
        if args.database != "sqlite":
            await _admin(args.database, f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main())
