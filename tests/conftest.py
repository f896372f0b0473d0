"""Shared fixtures: a real Tansu broker (once per session) and real Postgres databases.

Integration tests never mock the broker or the database. Postgres comes from ``TEST_DATABASE_URL``
(default: the local server's ``test`` database); when it is unreachable the tests that need it fail
with instructions, they never pass silently.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ecgstream.embedded import TansuBroker

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
DEFAULT_TEST_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"

POSTGRES_HELP = (
    "PostgreSQL is not reachable at {url}. Start one (on this machine kind: "
    "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`; elsewhere: "
    "`docker compose up -d postgres`) or point TEST_DATABASE_URL at a server with trust/password auth. "
    "Error: {error}"
)


def shared_data_dir(name: str) -> Path:
    """A folder of ../shared/data; skips the test with a clear message where it is absent."""
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"{path} is absent (only a checkout with ../shared beside it has the real ECG data)")
    return path


@pytest.fixture(scope="session")
def tansu() -> Iterator[TansuBroker]:
    """A real Tansu (Kafka protocol) broker on a free loopback port for the whole test session."""
    with TansuBroker() as broker:
        yield broker


@pytest.fixture
def unique_name() -> str:
    """A short unique suffix for topic names and consumer groups."""
    return uuid.uuid4().hex[:10]


async def _admin_execute(url: str, statement: str) -> None:
    import asyncpg

    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """URL of the real test Postgres; fails (never skips) when it is unreachable."""
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL)
    try:
        asyncio.run(_admin_execute(url, "SELECT 1"))
    except Exception as exc:  # any connection failure: say how to fix it
        pytest.fail(POSTGRES_HELP.format(url=url, error=exc), pytrace=False)
    return url


@pytest.fixture
def fresh_postgres_url(postgres_url: str) -> Iterator[str]:
    """A brand-new empty Postgres database for one test, dropped afterwards."""
    name = f"ecgs_{uuid.uuid4().hex[:12]}"
    base, _, _ = postgres_url.rpartition("/")
    asyncio.run(_admin_execute(postgres_url, f'CREATE DATABASE "{name}"'))
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(_admin_execute(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
