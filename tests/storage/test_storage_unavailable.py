"""Database outages: refused, lost mid-transaction, killed backends; the same sink recovers.

A small TCP proxy in front of the real Postgres stands in for the server: stopping it refuses new
connections and cuts the open ones, starting it again on the same port brings the "server" back.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from storage import (
    DatabaseUnavailable,
    DiagnosisResult,
    SqlDiagnosisSink,
    StorageError,
    count_diagnoses,
    create_engine,
    diagnosis_counts_by_recording,
    get_diagnosis,
)
from storage.migrate import upgrade
from tests.tcp_proxy import TcpProxy

SECRET = "test-secret-0123456789"
Factory = Callable[..., DiagnosisResult]


@pytest.fixture
async def proxied(fresh_postgres_url: str) -> AsyncIterator[tuple[TcpProxy, str, str]]:
    """(proxy, URL through the proxy, direct URL) of a migrated brand-new Postgres database."""
    upgrade(fresh_postgres_url)
    direct = make_url(fresh_postgres_url)
    proxy = TcpProxy(direct.host or "127.0.0.1", direct.port or 5432).start()
    try:
        yield proxy, direct.set(port=proxy.port).render_as_string(hide_password=False), fresh_postgres_url
    finally:
        proxy.close()


async def test_unreachable_server_raises_database_unavailable(
    closed_port: int, result_factory: Factory
) -> None:
    engine = create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port}/test")
    try:
        sink = SqlDiagnosisSink(engine, hmac_secret=SECRET)
        with pytest.raises(DatabaseUnavailable) as info:
            await sink.write_batch([result_factory()])
        assert isinstance(info.value.__cause__, OSError)
        with pytest.raises(DatabaseUnavailable):
            await count_diagnoses(engine)
        with pytest.raises(DatabaseUnavailable):
            await get_diagnosis(engine, "x")
    finally:
        await engine.dispose()


async def test_same_sink_recovers_after_server_comes_back(
    proxied: tuple[TcpProxy, str, str], result_factory: Factory
) -> None:
    proxy, url, _ = proxied
    engine = create_engine(url)
    sink = SqlDiagnosisSink(engine, hmac_secret=SECRET)
    try:
        first, second = [result_factory() for _ in range(3)], [result_factory() for _ in range(3)]
        await sink.write_batch(first)  # the pool now holds a live connection
        proxy.outage()  # server "down": pooled connection cut, new ones refused
        for _ in range(3):  # the worker's retries while the database is down
            with pytest.raises(DatabaseUnavailable):
                await sink.write_batch(second)
        proxy.restore()  # server back on the same port
        await sink.write_batch(second)
        await sink.write_batch(first + second)  # and a redelivery on top
        counts = await diagnosis_counts_by_recording(engine)
        assert counts == {r.recording_id: 1 for r in first + second}
    finally:
        await engine.dispose()


async def test_connection_lost_mid_transaction_writes_nothing_then_recovers(
    proxied: tuple[TcpProxy, str, str], result_factory: Factory
) -> None:
    proxy, url, direct = proxied
    engine = create_engine(url)
    sink = SqlDiagnosisSink(engine, hmac_secret=SECRET)
    dsn = direct.replace("postgresql+asyncpg://", "postgresql://")
    admin, watcher = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    batch = [result_factory() for _ in range(4)]
    try:
        # Hold a lock on diagnoses: the sink's transaction inserts the recordings, then waits.
        lock = admin.transaction()
        await lock.start()
        await admin.execute("LOCK TABLE diagnoses IN ACCESS EXCLUSIVE MODE")
        write = asyncio.create_task(sink.write_batch(batch))
        for _ in range(200):
            waiting = await watcher.fetchval(  # own connection: pg_stat_activity is frozen per transaction
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if waiting:
                break
            await asyncio.sleep(0.05)
        assert waiting, "the sink never reached the locked table"
        proxy.outage()  # connection lost in the middle of the transaction
        with pytest.raises(DatabaseUnavailable):
            await asyncio.wait_for(write, 30)
        await lock.rollback()
        assert await admin.fetchval("SELECT count(*) FROM recordings") == 0  # rolled back as a whole
        proxy.restore()
        await sink.write_batch(batch)
        assert await count_diagnoses(engine) == 4
    finally:
        await admin.close()
        await watcher.close()
        await engine.dispose()


async def test_pool_survives_killed_backends(fresh_postgres_url: str, result_factory: Factory) -> None:
    upgrade(fresh_postgres_url)
    engine = create_engine(fresh_postgres_url)
    sink = SqlDiagnosisSink(engine, hmac_secret=SECRET)
    admin = await asyncpg.connect(fresh_postgres_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await sink.write_batch([result_factory()])
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        assert killed >= 1  # the pooled connection is dead now (e.g. Postgres restarted)
        await sink.write_batch([result_factory()])  # pre-ping notices and reconnects
        assert await count_diagnoses(engine) == 2
    finally:
        await admin.close()
        await engine.dispose()


async def test_sqlite_file_unreachable_then_available(tmp_path: Path, result_factory: Factory) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'not-yet' / 'ecgstream.db'}"
    engine = create_engine(url)
    sink = SqlDiagnosisSink(engine, hmac_secret=SECRET)
    try:
        with pytest.raises(DatabaseUnavailable):  # "unable to open database file"
            await sink.write_batch([result_factory()])
        upgrade(url)  # creates the folder and the tables
        await sink.write_batch([result_factory()])
        assert await count_diagnoses(engine) == 1
    finally:
        await engine.dispose()


async def test_sqlite_writer_waits_for_a_locked_file(tmp_path: Path, result_factory: Factory) -> None:
    """The gateway and the worker share the file: a writer waits for another's lock (busy timeout)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'ecgstream.db'}"
    upgrade(url)
    holder, writer = create_engine(url), create_engine(url)
    try:
        async with holder.begin() as conn:
            await conn.exec_driver_sql("UPDATE recordings SET age = age")  # takes the write lock
            write = asyncio.create_task(
                SqlDiagnosisSink(writer, hmac_secret=SECRET).write_batch([result_factory()])
            )
            await asyncio.sleep(0.5)
            assert not write.done()  # waiting, not failing with "database is locked"
        await asyncio.wait_for(write, 30)
        assert await count_diagnoses(writer) == 1
    finally:
        await holder.dispose()
        await writer.dispose()


def test_storage_error_is_not_retryable() -> None:
    assert not issubclass(StorageError, DatabaseUnavailable)


async def test_concurrent_overlapping_batches_write_each_diagnosis_once(
    fresh_postgres_url: str, result_factory: Factory
) -> None:
    """Two workers writing the same recordings at once, in opposite orders (a rebalance redelivery).

    (The sink sorts rows by key so such writers lock rows in one order; this test checks the
    outcome, it does not reliably provoke the deadlock that unsorted rows could hit.)
    """
    upgrade(fresh_postgres_url)
    engines = [create_engine(fresh_postgres_url) for _ in range(2)]
    sinks = [SqlDiagnosisSink(engine, hmac_secret=SECRET) for engine in engines]
    try:
        for _ in range(10):
            batch = [result_factory(signal=None) for _ in range(50)]
            await asyncio.gather(sinks[0].write_batch(batch), sinks[1].write_batch(batch[::-1]))
        counts = await diagnosis_counts_by_recording(engines[0])
        assert len(counts) == 500 and set(counts.values()) == {1}
    finally:
        for engine in engines:
            await engine.dispose()
