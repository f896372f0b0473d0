"""Migrations on the real Postgres and on a SQLite file: apply, match the models, revert, CLI."""

from __future__ import annotations

import sqlite3

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from ecgstream.cli import main as cli_main
from storage import create_engine
from storage.migrate import current_revision, downgrade, head_revision, upgrade, upgrade_async
from storage.models import Base


def test_head_is_the_stored_summary_revision() -> None:
    # 0007_shadow, 0008_overread (re-chained at the merge), then 0009_summary
    assert head_revision() == "0009_summary"


async def _schema(url: str) -> tuple[set[str], list[object]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:

            def inspect_and_compare(sync_conn):  # type: ignore[no-untyped-def]
                tables = set(inspect(sync_conn).get_table_names())
                context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
                return tables, compare_metadata(context, Base.metadata)

            return await conn.run_sync(inspect_and_compare)
    finally:
        await engine.dispose()


async def test_upgrade_creates_tables_matching_the_models(database_url: str) -> None:
    assert current_revision(database_url) is None
    await upgrade_async(database_url)
    assert current_revision(database_url) == head_revision()
    tables, diff = await _schema(database_url)
    assert {
        "recordings",
        "diagnoses",
        "api_tokens",
        "users",
        "login_sessions",
        "recording_owners",
        "overreads",
        "overread_publications",
        "patient_identities",
    } <= tables
    assert diff == []  # the hand-written revision and the models agree (autogenerate finds nothing)


async def test_upgrade_is_idempotent_and_downgrade_reverts(database_url: str) -> None:
    upgrade(database_url)  # the sync API, called from inside this running event loop
    upgrade(database_url)
    downgrade(database_url, "base")
    assert current_revision(database_url) is None
    tables, _ = await _schema(database_url)
    assert tables <= {"alembic_version"}
    upgrade(database_url)
    assert current_revision(database_url) == head_revision()


def test_cli_db_upgrade_and_current(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert cli_main(["db", "current"]) == 0
    assert "needs `ecgstream db upgrade`" in capsys.readouterr().out
    assert cli_main(["db", "upgrade"]) == 0
    assert f"upgraded to {head_revision()}" in capsys.readouterr().out
    assert current_revision(database_url) == head_revision()
    assert cli_main(["db", "current"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_cli_default_is_the_embedded_sqlite_file(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("ECGSTREAM_HOME", str(tmp_path / "home"))  # does not exist yet
    assert cli_main(["db", "upgrade"]) == 0
    db = tmp_path / "home" / "ecgstream.db"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == head_revision()


def test_cli_reports_an_unreachable_database(
    closed_port: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port}/test")
    assert cli_main(["db", "upgrade"]) == 2
    assert "cannot reach" in capsys.readouterr().err


def test_cli_url_option_and_downgrade(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["db", "upgrade", "--url", database_url]) == 0
    assert cli_main(["db", "downgrade", "base", "--url", database_url]) == 0
    assert "downgraded to base" in capsys.readouterr().out
    assert current_revision(database_url) is None
