"""Which database an administrative command (``token``, ``user``) uses, said plainly.

Without ``DATABASE_URL`` the database is the SQLite file under ``ECGSTREAM_HOME`` (``./var`` of the
current folder by default), so the same command typed in another folder would open, and create, a
second, empty database whose tokens the running gateway never sees. These commands therefore never
create a database: a missing file is an error that names the file, ``ECGSTREAM_HOME`` and how to
point at the right one; and on success they say which database they wrote to.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url

from core.config import ConfigError, Settings

__all__ = ["existing_database_url", "describe_database"]


def describe_database(settings: Settings) -> str:
    """``DATABASE_URL=...`` (password hidden) or ``the SQLite file <path> (ECGSTREAM_HOME=<home>)``."""
    if settings.database_url:
        return f"DATABASE_URL={make_url(settings.database_url).render_as_string(hide_password=True)}"
    return f"the SQLite file {settings.home / 'ecgstream.db'} (ECGSTREAM_HOME={settings.home})"


def existing_database_url(settings: Settings) -> str:
    """The database URL, when it names a database that exists; ``ConfigError`` (exit 2) otherwise."""
    url = settings.effective_database_url
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).exists():
        variable = "DATABASE_URL" if settings.database_url else "ECGSTREAM_HOME"
        raise ConfigError(
            f"there is no ecgstream database at {parsed.database} ({variable}"
            f"{'' if settings.database_url else '=' + str(settings.home)}; the current folder is {Path.cwd()}). "
            "Run this command in the folder where you run `ecgstream up`, or set ECGSTREAM_HOME to that "
            "stack's home folder (the one holding ecgstream.db), or DATABASE_URL to its database"
        )
    return url
