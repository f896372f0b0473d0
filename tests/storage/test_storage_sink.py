"""The SQL sink against the real Postgres and a SQLite file: inserts, idempotency, privacy, reads."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Callable
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import (
    DiagnosisResult,
    SqlDiagnosisSink,
    StorageError,
    count_diagnoses,
    diagnosis_counts_by_recording,
    get_diagnosis,
    hash_patient_ref,
    recent_diagnoses,
)
from storage.models import Diagnosis, Recording
from storage.sink import MAX_BIND_PARAMETERS

SECRET = "test-secret-0123456789"
Factory = Callable[..., DiagnosisResult]
RowsOf = Callable[[AsyncEngine], Any]


def sink_for(engine: AsyncEngine, store_signal: bool = False) -> SqlDiagnosisSink:
    return SqlDiagnosisSink(engine, hmac_secret=SECRET, store_signal=store_signal)


async def test_write_batch_inserts_every_column(
    engine: AsyncEngine, result_factory: Factory, rows_of: RowsOf
) -> None:
    batch = [result_factory() for _ in range(5)]
    await sink_for(engine).write_batch(batch)
    rows = await rows_of(engine)
    assert len(rows["recordings"]) == 5 and len(rows["diagnoses"]) == 5
    first = batch[0]
    recording = next(r for r in rows["recordings"] if r["recording_id"] == first.recording_id)
    assert recording["patient_ref_hash"] == hash_patient_ref(first.patient_ref or "", SECRET)
    assert recording["acquired_at"] == first.acquired_at and recording["acquired_at"].tzinfo is not None
    assert recording["duration_s"] == pytest.approx(10.0)
    assert recording["signal"] is None  # store_signal off by default
    assert (recording["source_topic"], recording["source_offset"]) == (
        first.source_topic,
        first.source_offset,
    )
    diagnosis = next(d for d in rows["diagnoses"] if d["recording_id"] == first.recording_id)
    assert diagnosis["statements"] == first.statements
    assert diagnosis["probabilities"] == first.probabilities
    assert diagnosis["diagnosed_at"] == first.diagnosed_at
    assert diagnosis["latency_from_acquisition_seconds"] == pytest.approx(3.0)
    assert diagnosis["latency_from_ingest_seconds"] == pytest.approx(1.0)
    assert await count_diagnoses(engine) == 5


async def test_redelivered_batch_changes_nothing(
    engine: AsyncEngine, result_factory: Factory, rows_of: RowsOf
) -> None:
    sink = sink_for(engine, store_signal=True)
    batch = [result_factory() for _ in range(8)]
    await sink.write_batch(batch)
    before = await rows_of(engine)
    await sink.write_batch(batch)  # exact redelivery
    # a redelivery re-diagnosed later (new timings, provenance and even probabilities): first write wins
    rediagnosed = [
        result_factory(
            recording_id=r.recording_id,
            diagnosed_at=r.diagnosed_at + timedelta(minutes=5),
            queue_wait_seconds=7.0,
            probabilities={"22": 0.5},
            source_offset=10_000,
        )
        for r in batch[:4]
    ]
    await sink.write_batch(rediagnosed + batch[4:])
    assert await rows_of(engine) == before  # every column of every row, ids and created_at included


async def test_duplicates_inside_one_batch(
    engine: AsyncEngine, result_factory: Factory, rows_of: RowsOf
) -> None:
    a, b = result_factory(), result_factory()
    a_later = result_factory(recording_id=a.recording_id, queue_wait_seconds=9.0)
    a_other_model = result_factory(recording_id=a.recording_id, model_version="cae-2.0.0")
    await sink_for(engine).write_batch([a, b, a_later, a, a_other_model, b])
    assert await diagnosis_counts_by_recording(engine) == {a.recording_id: 2, b.recording_id: 1}
    rows = await rows_of(engine)
    assert len(rows["recordings"]) == 2
    first = next(
        d
        for d in rows["diagnoses"]
        if d["recording_id"] == a.recording_id and d["model_version"] == a.model_version
    )
    assert first["queue_wait_seconds"] == a.queue_wait_seconds  # first occurrence in the batch wins


async def test_empty_batch_is_a_no_op(engine: AsyncEngine) -> None:
    await sink_for(engine).write_batch([])
    assert await count_diagnoses(engine) == 0


async def test_large_batch_is_split_below_the_bind_parameter_limit(
    engine: AsyncEngine, result_factory: Factory
) -> None:
    n = MAX_BIND_PARAMETERS // len(Recording.__table__.columns) + 10  # more than one multi-row statement could bind
    batch = [result_factory(signal=None, signal_sha256="0" * 64) for _ in range(n)]
    await sink_for(engine).write_batch(batch)
    assert await count_diagnoses(engine) == n


@pytest.mark.parametrize("store_signal", [False, True])
async def test_store_signal_setting(engine: AsyncEngine, result_factory: Factory, store_signal: bool) -> None:
    with_signal, without_signal = (
        result_factory(signal=b"\x00\x01raw-int16\xff" * 100),
        result_factory(signal=None),
    )
    await sink_for(engine, store_signal=store_signal).write_batch([with_signal, without_signal])
    async with engine.connect() as conn:
        stored = dict((await conn.execute(select(Recording.recording_id, Recording.signal))).all())
    assert stored[with_signal.recording_id] == (with_signal.signal if store_signal else None)
    assert stored[without_signal.recording_id] is None
    view = await get_diagnosis(engine, with_signal.recording_id)
    assert view is not None and view.has_signal is store_signal
    assert view.signal_sha256 == with_signal.signal_sha256  # the hash is always kept


def _database_dump(url: str) -> bytes:
    """Everything the database holds, as bytes: ``pg_dump`` for Postgres, the raw files for SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return subprocess.run(
            [
                "pg_dump",
                "-h",
                parsed.host or "127.0.0.1",
                "-p",
                str(parsed.port or 5432),
                "-U",
                parsed.username or "postgres",
                parsed.database or "",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        ).stdout
    path = Path(parsed.database or "")
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))  # main file, -wal, -shm


async def test_patient_reference_never_stored_or_logged_in_clear(
    engine: AsyncEngine, migrated_url: str, result_factory: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    refs = ["MRN-CLEAR-5550123", "Müller, Anna 1961-03-04"]
    results = [result_factory(patient_ref=ref) for ref in refs] + [result_factory(patient_ref=None)]
    sink = sink_for(engine, store_signal=True)
    await sink.write_batch(results)
    await sink.write_batch(results)
    # every text and JSON column, read back through SQL
    texts: list[str] = []
    async with engine.connect() as conn:
        for table in (Recording.__table__, Diagnosis.__table__):
            for row in (await conn.execute(select(table))).all():
                texts.extend(str(value) for value in row)
    dump = _database_dump(migrated_url)
    for ref in refs:
        assert all(ref not in t for t in texts)
        assert ref.encode() not in dump and ref.encode("utf-16-le") not in dump
        assert hash_patient_ref(ref, SECRET).encode() in dump  # the hash is what is there
        assert ref not in caplog.text
    assert any("wrote diagnosis batch" in m for m in caplog.messages)
    async with engine.connect() as conn:
        hashes = dict((await conn.execute(select(Recording.recording_id, Recording.patient_ref_hash))).all())
    assert hashes[results[2].recording_id] is None


async def test_get_diagnosis_returns_the_newest_model_version(
    engine: AsyncEngine, result_factory: Factory
) -> None:
    old = result_factory(model_version="cae-9.0.0")
    new = result_factory(
        recording_id=old.recording_id,
        model_version="cae-10.0.0",  # sorts before 9 as text: newest is by time, not by name
        diagnosed_at=old.diagnosed_at + timedelta(days=1),
        statements=[{"code": 50, "description": "Sinus bradycardia", "probability": 0.8}],
    )
    sink = sink_for(engine)
    await sink.write_batch([old])
    await sink.write_batch([new])
    view = await get_diagnosis(engine, old.recording_id)
    assert view is not None
    assert view.model_version == "cae-10.0.0" and view.statements == new.statements
    assert view.diagnosed_at == new.diagnosed_at.astimezone(UTC)
    assert view.patient_ref_hash == hash_patient_ref(old.patient_ref or "", SECRET)
    assert (view.age, view.sex, view.n_samples) == (old.age, old.sex, old.n_samples)
    assert await get_diagnosis(engine, "no-such-recording") is None
    assert [v.model_version for v in await recent_diagnoses(engine, limit=5)] == ["cae-10.0.0", "cae-9.0.0"]
    assert await diagnosis_counts_by_recording(engine) == {old.recording_id: 2}


async def test_numpy_values_are_stored_as_plain_json(engine: AsyncEngine, result_factory: Factory) -> None:
    np = pytest.importorskip("numpy")
    r = result_factory(
        statements=[{"code": np.int64(22), "description": "Sinus rhythm", "probability": np.float32(0.75)}],
        probabilities={"22": np.float32(0.75), "50": np.float64(0.125)},
    )
    await sink_for(engine).write_batch([r])
    view = await get_diagnosis(engine, r.recording_id)
    assert view is not None
    assert view.statements == [{"code": 22, "description": "Sinus rhythm", "probability": 0.75}]
    assert view.probabilities == {"22": 0.75, "50": 0.125}


async def test_rejected_values_raise_storage_error_and_write_nothing(
    engine: AsyncEngine, result_factory: Factory
) -> None:
    good = result_factory()
    bad = result_factory(probabilities={"22": float("nan")})
    with pytest.raises(StorageError):
        await sink_for(engine).write_batch([good, bad])
    assert await count_diagnoses(engine) == 0


async def test_missing_tables_raise_storage_error(database_url: str, result_factory: Factory) -> None:
    from storage import DatabaseUnavailable, create_engine

    engine = create_engine(database_url)  # never migrated
    try:
        with pytest.raises(StorageError) as info:
            await sink_for(engine).write_batch([result_factory()])
        assert not isinstance(info.value, DatabaseUnavailable)
    finally:
        await engine.dispose()


async def test_foreign_key_is_enforced(engine: AsyncEngine, result_factory: Factory) -> None:
    r = result_factory()
    row = SqlDiagnosisSink._diagnosis_row(r, r.diagnosed_at)
    with pytest.raises(Exception):  # noqa: B017 - IntegrityError from either driver
        async with engine.begin() as conn:
            await conn.execute(insert(Diagnosis.__table__).values(row))
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM diagnoses"))).scalar_one() == 0


async def test_signal_bytes_carrying_the_patient_reference_are_not_stored(
    engine: AsyncEngine, migrated_url: str, result_factory: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    ref = "MRN-IN-EVENT-0042"
    leaky = result_factory(patient_ref=ref, signal=b"avro-header" + ref.encode() + b"samples" * 50)
    await sink_for(engine, store_signal=True).write_batch([leaky])
    view = await get_diagnosis(engine, leaky.recording_id)
    assert view is not None and view.has_signal is False
    assert ref.encode() not in _database_dump(migrated_url)
    assert "signal not stored" in caplog.text and ref not in caplog.text
