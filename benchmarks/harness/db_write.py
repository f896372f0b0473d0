"""Database write capacity: rows/s of the worker's sink (``SqlDiagnosisSink.write_batch``) and bytes/row.

Results shaped like the worker's (59 label probabilities, a few statements, every metadata column)
are written in batches of ``batch_max`` by 1 sink and by 4 concurrent sinks (4 workers' worth of
connections), first ``rows`` without and then a quarter as many with stored signals
(``STORE_SIGNAL``: 12 x 5,000 float32 = 240,000 bytes per recording). Bytes per row are the growth of the two tables, indexes and TOAST
included (Postgres: ``pg_total_relation_size``; SQLite: pages of the file), over the rows written.
On Postgres the same rows are also written with asyncpg's prepared ``executemany`` (no SQLAlchemy):
the gap between the two is the client's statement-building cost, not the server's.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import text

from benchmarks.harness.environment import BenchDatabase
from benchmarks.harness.workload import Workload
from core.config import DEV_HMAC_SECRET
from storage import DiagnosisResult, SqlDiagnosisSink

__all__ = ["measure_db_writes"]


def _results(workload: Workload, n: int, codes: list[int], with_signal: bool) -> list[DiagnosisResult]:
    rng = np.random.default_rng(3)
    now = datetime.now(UTC)
    out = []
    for i in range(n):
        rec = workload.recordings[i % len(workload.recordings)]
        signal = np.ascontiguousarray(rec.signal, dtype="<f4").tobytes()
        probs = rng.random(len(codes)).astype(np.float32)
        out.append(DiagnosisResult(
            recording_id=str(uuid.uuid4()), model_version="bench", device_id=rec.device_id,
            statements=[{"code": c, "description": f"statement {c}", "probability": round(float(p), 4)}
                        for c, p in zip(codes[:3], probs[:3], strict=True)],
            probabilities={str(c): round(float(p), 5) for c, p in zip(codes, probs, strict=True)},
            patient_ref=f"bench-patient-{i}", age=rec.age, sex=rec.sex, height_cm=None, weight_kg=None,
            sampling_rate_hz=rec.fs, n_samples=rec.n_samples, acquired_at=now, ingested_at=now,
            signal_sha256=hashlib.sha256(signal).hexdigest(), signal=signal if with_signal else None,
            received_at=now, diagnosed_at=now, queue_wait_seconds=0.1, preprocess_seconds=0.03,
            inference_seconds=0.02, source_topic="bench-db-write", source_partition=i % 4, source_offset=i,
        ))  # fmt: skip
    return out


async def _table_bytes(database: BenchDatabase) -> int:
    assert database.engine is not None
    async with database.engine.connect() as conn:
        if database.engine.dialect.name == "postgresql":
            query = "SELECT pg_total_relation_size('recordings') + pg_total_relation_size('diagnoses')"
            return int((await conn.execute(text(query))).scalar_one())
        await conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        pages = (await conn.execute(text("PRAGMA page_count"))).scalar_one()
        free = (await conn.execute(text("PRAGMA freelist_count"))).scalar_one()
        size = (await conn.execute(text("PRAGMA page_size"))).scalar_one()
        return int((pages - free) * size)


async def _write(database: BenchDatabase, results: list[DiagnosisResult], batch: int, sinks: int,
                 store_signal: bool) -> float:  # fmt: skip
    """Rows/s writing ``results`` in batches of ``batch`` through ``sinks`` concurrent sinks."""
    assert database.engine is not None
    sink = SqlDiagnosisSink(database.engine, hmac_secret=DEV_HMAC_SECRET, store_signal=store_signal)
    batches = [results[i : i + batch] for i in range(0, len(results), batch)]
    queue: asyncio.Queue[list[DiagnosisResult]] = asyncio.Queue()
    for b in batches:
        queue.put_nowait(b)

    async def drain() -> None:
        while not queue.empty():
            await sink.write_batch(queue.get_nowait())

    started = time.perf_counter()
    await asyncio.gather(*(drain() for _ in range(sinks)))
    return len(results) / (time.perf_counter() - started)


async def _raw_asyncpg_rows_per_s(
    database: BenchDatabase, results: list[DiagnosisResult], batch: int
) -> float:
    """The same rows, one transaction per batch, as two prepared ``executemany`` calls on asyncpg:
    what the server takes when the client does not compile a new multi-row statement per batch."""
    import asyncpg

    assert database.engine is not None
    sink = SqlDiagnosisSink(database.engine, hmac_secret=DEV_HMAC_SECRET)
    now = datetime.now(UTC)
    recordings = [sink._recording_row(r, now) for r in results]  # the sink's own row builders
    diagnoses = [sink._diagnosis_row(r, now) for r in results]
    for row in diagnoses:
        row["statements"], row["probabilities"] = (
            json.dumps(row["statements"]),
            json.dumps(row["probabilities"]),
        )

    def statement(table: str, rows: list[dict[str, Any]], keys: str) -> tuple[str, list[str]]:
        columns = list(rows[0])
        values = ", ".join(f"${i + 1}" for i in range(len(columns)))
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values}) ON CONFLICT ({keys}) DO NOTHING"
        return sql, columns

    rec_sql, rec_cols = statement("recordings", recordings, "recording_id")
    diag_sql, diag_cols = statement("diagnoses", diagnoses, "recording_id, model_version")
    url = database.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(url)
    try:
        started = time.perf_counter()
        for i in range(0, len(results), batch):
            async with conn.transaction():
                await conn.executemany(
                    rec_sql, [tuple(r[c] for c in rec_cols) for r in recordings[i : i + batch]]
                )
                await conn.executemany(
                    diag_sql, [tuple(d[c] for c in diag_cols) for d in diagnoses[i : i + batch]]
                )
        return len(results) / (time.perf_counter() - started)
    finally:
        await conn.close()


async def measure_db_writes(database: BenchDatabase, workload: Workload, rows: int, batch: int,
                            codes: list[int]) -> dict[str, Any]:  # fmt: skip
    """Rows/s and bytes/row of the sink on ``database``, without and with stored signals."""
    out: dict[str, Any] = {"rows": rows, "batch": batch}
    for with_signal in (False, True):
        label = "with_signal" if with_signal else "without_signal"
        n = max(batch, rows // 4) if with_signal else rows  # signal rows are 240 kB each: fewer suffice
        first = _results(workload, n, codes, with_signal)
        second = _results(workload, n, codes, with_signal)
        size_before = await _table_bytes(database)
        one = await _write(database, first, batch, 1, with_signal)
        size_after = await _table_bytes(database)
        four = await _write(database, second, batch, 4, with_signal)
        if not with_signal and database.engine is not None and database.engine.dialect.name == "postgresql":
            out["raw_asyncpg_executemany_rows_per_s"] = await _raw_asyncpg_rows_per_s(
                database, _results(workload, n, codes, False), batch
            )
        out[label] = {
            "rows": n,
            "rows_per_s_1_sink": one,
            "rows_per_s_4_sinks": four,
            "bytes_per_row": (size_after - size_before) / n,
        }
    return out
