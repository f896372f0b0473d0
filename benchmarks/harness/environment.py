"""What the phases run on: one Tansu broker, a freshly migrated database, real worker processes.

Each phase gets its own topics and consumer group (``BenchRun.phase``) on the shared broker and
database, and starts ``ecgstream worker`` OS processes through ``ecgstream.stack.LocalStack``, the
same processes a deployment runs. Results are read back from the database rows the workers wrote
(``recordings.source_topic`` tells the phases apart) and from the workers' ``/metrics``.
"""

from __future__ import annotations

import asyncio
import logging
import time
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from core.config import Settings
from ecgstream.stack import LocalStack, WorkerProcess
from storage import Diagnosis, Recording, create_engine, upgrade

__all__ = ["BenchDatabase", "BenchRun", "Phase", "StoredRow", "scrape_metrics"]

logger = logging.getLogger(__name__)

_D = Diagnosis.__table__.c
_R = Recording.__table__.c


@dataclass(frozen=True)
class StoredRow:
    recording_id: str
    ingested_at: datetime  # publish time (ce_time stamped by the harness)
    diagnosed_at: datetime  # model done, before the database write
    created_at: datetime  # the sink's write time (the row's transaction follows at once)


class BenchDatabase:
    """A database the harness owns: Postgres (dropped and recreated per run) or a SQLite file."""

    def __init__(self, name: str, url: str) -> None:
        self.name = name
        self.url = url
        self.engine: AsyncEngine | None = None

    @classmethod
    def sqlite(cls, home: Path) -> BenchDatabase:
        return cls("sqlite", f"sqlite+aiosqlite:///{home / 'bench.db'}")

    @classmethod
    def postgres(cls, url: str) -> BenchDatabase:
        return cls("postgres", url)

    async def prepare(self) -> None:
        """Start from an empty, migrated database (the Postgres database is dropped and recreated)."""
        parsed = make_url(self.url)
        if parsed.get_backend_name() == "postgresql":
            import asyncpg

            admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(
                hide_password=False
            )
            conn = await asyncpg.connect(admin, timeout=10)
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
                await conn.execute(f'CREATE DATABASE "{parsed.database}"')
            finally:
                await conn.close()
        elif parsed.database:
            for suffix in ("", "-wal", "-shm"):
                Path(parsed.database + suffix).unlink(missing_ok=True)
        await asyncio.to_thread(upgrade, self.url)
        self.engine = create_engine(self.url)

    async def close(self) -> None:
        if self.engine is not None:
            await self.engine.dispose()
            self.engine = None

    async def count(self, topic: str) -> int:
        assert self.engine is not None
        query = (
            select(func.count())
            .select_from(Diagnosis.__table__.join(Recording.__table__, _D.recording_id == _R.recording_id))
            .where(_R.source_topic == topic)
        )
        async with self.engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def rows(self, topic: str, ids: set[str] | None = None) -> list[StoredRow]:
        """The diagnosis rows of ``topic``'s recordings (only ``ids`` if given), ordered by write time."""
        assert self.engine is not None
        query = (
            select(_D.recording_id, _R.ingested_at, _D.diagnosed_at, _D.created_at)
            .select_from(Diagnosis.__table__.join(Recording.__table__, _D.recording_id == _R.recording_id))
            .where(_R.source_topic == topic)
            .order_by(_D.created_at)
        )
        async with self.engine.connect() as conn:
            result = await conn.execute(query)
            rows = [StoredRow(*row) for row in result.all()]
        return rows if ids is None else [row for row in rows if row.recording_id in ids]


def scrape_metrics(worker: WorkerProcess) -> dict[str, float]:
    """The worker's unlabelled samples (``name value`` lines) from /metrics; empty if unreachable."""
    try:
        text = urllib.request.urlopen(worker.metrics_url, timeout=5).read().decode()
    except OSError:
        return {}
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("ecgstream_") and "{" not in line:
            name, _, value = line.partition(" ")
            try:
                out[name] = float(value)
            except ValueError:
                continue
    return out


class Phase:
    """One phase's topics, consumer group and worker processes (a ``LocalStack`` without a broker)."""

    def __init__(self, run: BenchRun, name: str, **overrides: Any) -> None:
        suffix = f"{name}-{uuid.uuid4().hex[:6]}"
        self.name = name
        self.settings = run.settings.with_overrides(
            recordings_topic=f"bench-rec-{suffix}", diagnoses_topic=f"bench-diag-{suffix}",
            deadletter_topic=f"bench-dlq-{suffix}", worker_group=f"bench-{suffix}", **overrides,
        )  # fmt: skip
        self.stack = LocalStack(self.settings, workers=0, log_dir=run.home / "logs" / suffix)
        self.database = run.database
        self.bootstrap = run.bootstrap

    @property
    def topic(self) -> str:
        return self.settings.recordings_topic

    @property
    def workers(self) -> list[WorkerProcess]:
        return self.stack.workers

    async def __aenter__(self) -> Phase:
        await asyncio.to_thread(self.stack.start)  # migrations (already applied: quick) + topics
        return self

    async def __aexit__(self, *_: object) -> None:
        await asyncio.to_thread(self.stack.stop)

    def start_workers(self, n: int) -> list[WorkerProcess]:
        return [self.stack.add_worker() for _ in range(n)]

    async def wait_ready(self, timeout: float = 180.0) -> None:
        """Until every worker serves /metrics and the group owns all recordings partitions."""
        await asyncio.to_thread(self.stack.wait_ready, timeout)

    async def wait_metrics(self, timeout: float = 180.0) -> None:
        """Until every worker serves /metrics (model loaded and warmed up; group join follows)."""
        for worker in self.workers:
            await asyncio.to_thread(worker.wait_metrics, timeout)

    async def wait_stored(self, n: int, timeout: float, progress_every: float = 5.0) -> None:
        """Poll the database until ``n`` diagnoses of this phase's topic are stored; log progress."""
        deadline = time.monotonic() + timeout
        last_log = time.monotonic()
        while True:
            stored = await self.database.count(self.topic)
            if stored >= n:
                return
            if any(not worker.running for worker in self.workers):
                raise RuntimeError(f"a worker of phase {self.name} died; see its log in {self.stack.log_dir}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"phase {self.name}: {stored}/{n} stored after {timeout:.0f} s "
                                   f"(worker logs in {self.stack.log_dir})")  # fmt: skip
            if time.monotonic() - last_log >= progress_every:
                logger.info("progress", extra={"phase": self.name, "stored": stored, "of": n})
                last_log = time.monotonic()
            await asyncio.sleep(0.25)


@dataclass
class BenchRun:
    """The broker and database shared by one database's phases."""

    settings: Settings
    database: BenchDatabase
    home: Path

    @property
    def bootstrap(self) -> str:
        return self.settings.kafka_bootstrap or ""

    def phase(self, name: str, **overrides: Any) -> Phase:
        return Phase(self, name, **overrides)
