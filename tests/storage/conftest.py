"""Fixtures of the storage tests: a migrated database (real Postgres and a SQLite file) and results."""

from __future__ import annotations

import hashlib
import itertools
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import DiagnosisResult, create_engine
from storage.migrate import upgrade
from storage.models import Diagnosis, Recording

SECRET = "test-secret-0123456789"
T0 = datetime(2026, 11, 25, 3, 0, 0, tzinfo=UTC)
_counter = itertools.count()


@pytest.fixture(params=["postgres", "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """An empty database: a brand-new Postgres database, or a SQLite file in a temp folder."""
    if request.param == "postgres":
        return str(request.getfixturevalue("fresh_postgres_url"))
    return f"sqlite+aiosqlite:///{tmp_path / 'ecgstream.db'}"


@pytest.fixture
def migrated_url(database_url: str) -> str:
    upgrade(database_url)
    return database_url


@pytest.fixture
async def engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(migrated_url)
    try:
        yield engine
    finally:
        await engine.dispose()


def make_result(**overrides: Any) -> DiagnosisResult:
    """A plausible diagnosis result; every call has a new recording id unless one is given."""
    n = next(_counter)
    signal = overrides.pop("signal", f"signal-bytes-{n}".encode() * 10)
    values: dict[str, Any] = {
        "recording_id": str(uuid.uuid4()),
        "model_version": "cae-1.0.0",
        "statements": [{"code": 22, "description": "Sinus rhythm", "probability": 0.93}],
        "probabilities": {"22": 0.93, "50": 0.12, "106": 0.01},
        "device_id": "device-7",
        "patient_ref": f"PATIENT-CLEAR-{n:05d}",
        "age": 61,
        "sex": "F",
        "height_cm": 168.0,
        "weight_kg": 64.5,
        "sampling_rate_hz": 500.0,
        "n_samples": 5000,
        "acquired_at": T0,
        "ingested_at": T0 + timedelta(seconds=2),
        "signal_sha256": hashlib.sha256(signal or b"").hexdigest(),
        "signal": signal,
        "received_at": T0 + timedelta(seconds=2.5),
        "diagnosed_at": T0 + timedelta(seconds=3),
        "queue_wait_seconds": 0.4,
        "preprocess_seconds": 0.05,
        "inference_seconds": 0.08,
        "source_topic": "ecg.recordings.v1",
        "source_partition": n % 4,
        "source_offset": n,
    }
    values.update(overrides)
    return DiagnosisResult(**values)


@pytest.fixture
def result_factory() -> Callable[..., DiagnosisResult]:
    return make_result


async def dump_rows(engine: AsyncEngine) -> dict[str, list[dict[str, Any]]]:
    """Every row of both tables, all columns, in key order (for before/after comparisons)."""
    async with engine.connect() as conn:
        recordings = (await conn.execute(select(Recording.__table__).order_by(Recording.recording_id))).all()
        diagnoses = (await conn.execute(select(Diagnosis.__table__).order_by(Diagnosis.id))).all()
    return {
        "recordings": [row._asdict() for row in recordings],
        "diagnoses": [row._asdict() for row in diagnoses],
    }


@pytest.fixture
def rows_of() -> Callable[[AsyncEngine], Any]:
    """``await rows_of(engine)``: every row of both tables (see ``dump_rows``)."""
    return dump_rows


@pytest.fixture
def closed_port() -> int:
    """A loopback TCP port nothing listens on (connections are refused)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def insert_old_diagnosis(engine: AsyncEngine, row: dict[str, Any]) -> None:
    """A recording ``row["recording_id"]`` and its diagnosis ``row``, written with only the columns
    ``row`` names: a row as an older revision's worker wrote it (no sink: it would write them all)."""
    async with engine.begin() as conn:
        await conn.execute(
            insert(Recording.__table__).values(recording_id=row["recording_id"], sampling_rate_hz=500.0,
                                               n_samples=5000, duration_s=10.0, signal_sha256="x")
        )  # fmt: skip
        await conn.execute(insert(Diagnosis.__table__).values(row))
