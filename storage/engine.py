"""The async engine factory (called by services at start-up, never at import time)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

__all__ = ["create_engine", "async_url", "private_sqlite_file", "SQLITE_BUSY_TIMEOUT_MS", "POSTGRES_CONNECT_TIMEOUT_S"]

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000  # a writer waits this long for the file lock before "database is locked"
POSTGRES_CONNECT_TIMEOUT_S = 10.0  # an unreachable host fails in seconds, not asyncpg's default 60

_ASYNC_DRIVERS = {
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
}


def async_url(url: str | URL) -> URL:
    """``url`` with the async driver filled in (``postgresql://`` -> ``postgresql+asyncpg://``)."""
    parsed = make_url(url)
    if parsed.drivername in _ASYNC_DRIVERS:
        parsed = parsed.set(drivername=_ASYNC_DRIVERS[parsed.drivername])
    return parsed


def private_sqlite_file(url: str | URL, *, make_folder: bool = False) -> Path | None:
    """The SQLite file of ``url``, created empty with mode 0600 when absent, so that the database,
    and the ``-wal`` / ``-shm`` files SQLite creates with the same mode, are private. Its folder is
    created (0700) only with ``make_folder`` (migrations): a worker or gateway started before the
    database exists keeps failing as unavailable (retried) instead of writing into an empty file.
    None for other databases, ``:memory:`` and a missing folder without ``make_folder``."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    path = Path(parsed.database).expanduser()
    if not path.parent.exists():
        if not make_folder:
            return None
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.parent.chmod(0o700)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    return path


def create_engine(
    url: str | URL, *, read_only: bool = False, make_folder: bool = False, **engine_kwargs: Any
) -> AsyncEngine:
    """A new ``AsyncEngine`` for ``url``; the caller owns it and calls ``await engine.dispose()``.

    Every engine pings pooled connections before use (``pool_pre_ping``), so after the database
    comes back the next checkout reconnects instead of failing on a dead socket, and never puts
    statement parameters (patient hashes, signals) into exception messages or logs.
    SQLite files are created 0600 (``private_sqlite_file``) and opened in WAL mode with a busy timeout
    and foreign keys on, so the worker and the web gateway can share one file. ``read_only``: every
    session refuses writes (Postgres ``default_transaction_read_only``, SQLite ``PRAGMA query_only``),
    for readers that must never change the authoritative rows (``ecgstream replay``).
    """
    parsed = async_url(url)
    private_sqlite_file(parsed, make_folder=make_folder)
    options: dict[str, Any] = {"pool_pre_ping": True, "hide_parameters": True}
    if parsed.get_backend_name() == "postgresql":
        options["connect_args"] = {"timeout": POSTGRES_CONNECT_TIMEOUT_S}
        if read_only:
            options["connect_args"]["server_settings"] = {"default_transaction_read_only": "on"}
    elif parsed.get_backend_name() == "sqlite":
        options["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    options.update(engine_kwargs)
    engine = create_async_engine(parsed, **options)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _configure_sqlite_connection)
        if read_only:
            event.listen(engine.sync_engine, "connect", _sqlite_query_only)
    logger.debug("created engine", extra={"database": parsed.render_as_string(hide_password=True)})
    return engine


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer and vice versa
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; safe with WAL
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _sqlite_query_only(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA query_only=ON")  # after the WAL set-up: any write now fails
    finally:
        cursor.close()
