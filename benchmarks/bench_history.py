"""History queries (storage.history) on a filled database: milliseconds per page, and Postgres's plan.

    .venv/bin/python benchmarks/bench_history.py --database postgresql+asyncpg://postgres@127.0.0.1:5432/test_x \\
        [--recordings 20000] [--plan]

Creates a scratch database beside the one named (dropped afterwards) or, for ``sqlite``, a temporary
file; writes ``--recordings`` diagnoses through the real sink (three in four also uploaded, by 20
principals; 500 patients), then times page 1 (25 rows) of each query, best of 5. ``--plan`` prints
``EXPLAIN ANALYZE`` of the list of every recording on Postgres, to see the index scans.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.dialects import postgresql  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402

from storage import DiagnosisResult, SqlDiagnosisSink, create_engine, hash_patient_ref  # noqa: E402
from storage.history import HistoryFilter, history_statement, list_history, previous_diagnosis  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.principals import record_owner  # noqa: E402

SECRET = "bench-secret-0123456789abcdef"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _result(index: int) -> DiagnosisResult:
    code = 50 if index % 3 == 0 else 1
    at = T0 + timedelta(minutes=index)
    return DiagnosisResult(
        recording_id=f"r{index:07d}", model_version="bench", device_id=None, patient_ref=f"P{index % 500}",
        statements=[{"code": code, "description": "x", "probability": 0.5}], probabilities={str(code): 0.5},
        age=60, sex="F", height_cm=160.0, weight_kg=60.0, sampling_rate_hz=500.0, n_samples=5000,
        acquired_at=None, ingested_at=at, signal_sha256=hashlib.sha256(str(index).encode()).hexdigest(),
        signal=None, received_at=at, diagnosed_at=at + timedelta(seconds=1), queue_wait_seconds=0.1,
        preprocess_seconds=0.01, inference_seconds=0.01,
    )  # fmt: skip


async def _fill(engine: AsyncEngine, n: int) -> None:
    sink = SqlDiagnosisSink(engine, hmac_secret=SECRET)
    batch = []
    for index in range(n):
        batch.append(_result(index))
        if index % 4 != 3:
            await record_owner(engine, f"r{index:07d}", f"user:u{index % 20}")
        if len(batch) == 500:
            await sink.write_batch(batch)
            batch = []
    if batch:
        await sink.write_batch(batch)


async def _time(engine: AsyncEngine, n: int, plan: bool) -> None:
    if engine.dialect.name == "postgresql":
        async with engine.begin() as conn:
            await conn.execute(text("ANALYZE"))
    patient = hash_patient_ref("P7", SECRET)
    cases = {
        "one principal's list": HistoryFilter(owner="user:u2"),
        "every recording": HistoryFilter(),
        "status=abnormal": HistoryFilter(status="abnormal"),
        "statement=50, one principal": HistoryFilter(statement=50, owner="user:u2"),
        "one patient": HistoryFilter(patient_ref_hash=patient),
        "received in one day": HistoryFilter(since=T0 + timedelta(days=3), until=T0 + timedelta(days=4)),
    }
    print(f"| query ({engine.dialect.name}, {n} recordings) | page 1, ms (best of 5) |\n|---|---|")
    for label, flt in cases.items():
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            await list_history(engine, flt, page=1, page_size=25)
            best = min(best, time.perf_counter() - start)
        print(f"| {label} | {best * 1000:.1f} |")
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        await previous_diagnosis(engine, f"r{n - 1:07d}", owner=None)
        best = min(best, time.perf_counter() - start)
    print(f"| previous recording of a patient | {best * 1000:.1f} |")
    if plan and engine.dialect.name == "postgresql":
        statement = history_statement(HistoryFilter(), "postgresql", page=1, page_size=25)
        sql = str(statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
        async with engine.connect() as conn:
            print("\n".join(row[0] for row in (await conn.execute(text("EXPLAIN ANALYZE " + sql))).all()))


async def _admin(url: str, statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"), timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="sqlite", help="a Postgres URL (a scratch database is made beside it) or sqlite")
    parser.add_argument("--recordings", type=int, default=20_000)
    parser.add_argument("--plan", action="store_true")
    args = parser.parse_args()
    scratch = f"ecgs_bench_{uuid.uuid4().hex[:8]}"
    if args.database == "sqlite":
        url = f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='ecgstream-bench-')}/history.db"
    else:
        await _admin(args.database, f'CREATE DATABASE "{scratch}"')
        url = f"{args.database.rpartition('/')[0]}/{scratch}"
    try:
        await asyncio.to_thread(upgrade, url)
        engine = create_engine(url)
        try:
            await _fill(engine, args.recordings)
            await _time(engine, args.recordings, args.plan)
        finally:
            await engine.dispose()
    finally:
        if args.database != "sqlite":
            await _admin(args.database, f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main())
