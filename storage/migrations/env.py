"""Alembic environment: runs migrations on a connection handed over by ``storage.migrate``.

``storage.migrate`` opens an async engine and calls Alembic through ``AsyncConnection.run_sync``,
putting the sync connection in ``config.attributes["connection"]``. Run without one (plain
``alembic -x url=...`` with a config pointing here), it builds its own async engine from
``config.attributes["url"]`` or ``-x url=``. Offline mode (``--sql``) renders SQL for the URL's dialect.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from storage.engine import async_url, create_engine
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.attributes.get("url") or context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise RuntimeError("no database URL: use storage.migrate.upgrade(url) or alembic -x url=...")
    return str(async_url(url).render_as_string(hide_password=False))


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # ALTER TABLE via copy on SQLite
        compare_type=True,
    )


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def _run_on(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_engine(_url())
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_run_on)
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
    else:
        asyncio.run(_run_async())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
