"""Apply Alembic migrations from code (``ecgstream db upgrade``); no alembic.ini needed.

The Alembic configuration is built here: scripts in ``storage/migrations``, the URL passed in
``Config.attributes`` (never through the ini parser, so ``%`` in passwords is harmless). The
migrations run on a connection of the async engine through ``run_sync``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL, Connection

from storage.engine import async_url, create_engine
from storage.errors import translate_errors

__all__ = [
    "MIGRATIONS_DIR",
    "alembic_config",
    "upgrade",
    "upgrade_async",
    "downgrade",
    "downgrade_async",
    "current_revision",
    "current_revision_async",
    "head_revision",
]

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

T = TypeVar("T")


def alembic_config(url: str | URL | None = None) -> Config:
    """An Alembic ``Config`` for our migrations (``url`` is optional for offline use)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.attributes["url"] = async_url(url)
    return config


def head_revision() -> str | None:
    """The newest revision shipped with this code."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def _run_alembic(url: str | URL, operation: str, fn: Callable[[Config], T]) -> T:
    parsed = async_url(url)
    engine = create_engine(parsed, make_folder=True)  # a new SQLite file (and its folder) is created private
    try:
        with translate_errors(operation):
            async with engine.begin() as conn:

                def run(sync_conn: Connection) -> T:
                    config = alembic_config(parsed)
                    config.attributes["connection"] = sync_conn
                    return fn(config)

                return await conn.run_sync(run)
    finally:
        await engine.dispose()


async def upgrade_async(url: str | URL, revision: str = "head") -> None:
    """Upgrade the database at ``url`` to ``revision`` (from inside an event loop)."""
    await _run_alembic(url, "upgrade", lambda config: command.upgrade(config, revision))
    logger.info("database upgraded", extra={"revision": revision})


async def downgrade_async(url: str | URL, revision: str) -> None:
    """Downgrade the database at ``url`` to ``revision`` (``"base"`` drops every table)."""
    await _run_alembic(url, "downgrade", lambda config: command.downgrade(config, revision))
    logger.info("database downgraded", extra={"revision": revision})


async def current_revision_async(url: str | URL) -> str | None:
    """The revision the database is at, or None for an empty (never migrated) database."""

    def current(config: Config) -> str | None:
        connection = config.attributes["connection"]
        return MigrationContext.configure(connection).get_current_revision()

    return await _run_alembic(url, "current", current)


def _run(coro_factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion from sync code, even when this thread already runs a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro_factory())
    # Called from inside a running loop (e.g. a sync helper in an async service): use a new loop in
    # a helper thread instead of failing or nesting loops. Blocks the caller until done.
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(coro_factory())
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="ecgstream-migrate")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def upgrade(url: str | URL, revision: str = "head") -> None:
    """Upgrade the database at ``url`` to ``revision`` (sync; safe inside a running loop)."""
    _run(lambda: upgrade_async(url, revision))


def downgrade(url: str | URL, revision: str) -> None:
    """Downgrade the database at ``url`` to ``revision`` (sync)."""
    _run(lambda: downgrade_async(url, revision))


def current_revision(url: str | URL) -> str | None:
    """The revision the database is at (sync)."""
    return _run(lambda: current_revision_async(url))
