"""Storage errors, and the one place where driver errors are converted into them.

    EcgstreamError (core.errors)
    ├── DatabaseUnavailable   the database cannot take the write right now (refused, lost, timed
    │                         out, locked, starting up, deadlock victim): transient, the caller
    │                         retries the same call with backoff
    └── StorageError          anything else the database rejected (constraint, schema, bad value):
                              retrying the same call will fail again

The two are siblings on purpose: a worker that retries ``DatabaseUnavailable`` and stops on
``StorageError`` can catch them in any order.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc as sa_exc

from core.errors import EcgstreamError

__all__ = ["StorageError", "DatabaseUnavailable", "is_unavailable", "translate_errors"]


class StorageError(EcgstreamError):
    """The database rejected an operation; retrying it unchanged will not help."""

    reason = "storage_error"


class DatabaseUnavailable(EcgstreamError):
    """The database is unreachable or lost the connection; safe to retry the same call later."""

    reason = "database_unavailable"


# SQLite reports schema and syntax problems as OperationalError too; those are not transient.
_SQLITE_PERMANENT = re.compile(r"no such (table|column)|syntax error|has no column|already exists", re.I)

# asyncpg exception class names that mean "the server or the connection went away"
# (SQLSTATE class 08, 57P01-57P03, 53300), matched by name so asyncpg stays an optional import.
_ASYNCPG_UNAVAILABLE = {
    "PostgresConnectionError",
    "ConnectionDoesNotExistError",
    "ConnectionFailureError",
    "ClientCannotConnectError",
    "CannotConnectNowError",
    "AdminShutdownError",
    "CrashShutdownError",
    "TooManyConnectionsError",
    "ConnectionRejectionError",
    "InterfaceError",
    # class 40 (deadlock, serialization failure): the transaction was rolled back, retrying succeeds
    "TransactionRollbackError",
}


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__


def is_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` (or what it wraps) means the database is unreachable rather than refusing."""
    for err in _chain(exc):
        if isinstance(err, OSError | TimeoutError):  # refused, reset, DNS, asyncio timeouts
            return True
        if isinstance(err, sa_exc.DBAPIError) and err.connection_invalidated:
            return True
        if isinstance(err, sa_exc.DisconnectionError | sa_exc.TimeoutError):  # pool exhausted / lost
            return True
        if isinstance(err, sa_exc.OperationalError):
            return not _SQLITE_PERMANENT.search(str(err.orig))
        if isinstance(err, sa_exc.InterfaceError):
            return True
        if type(err).__module__.startswith("asyncpg") and any(
            cls.__name__ in _ASYNCPG_UNAVAILABLE for cls in type(err).__mro__
        ):
            return True
    return False


@contextmanager
def translate_errors(operation: str) -> Iterator[None]:
    """Re-raise driver and SQLAlchemy errors as ``DatabaseUnavailable`` or ``StorageError``."""
    try:
        yield
    except (DatabaseUnavailable, StorageError):
        raise
    except Exception as exc:  # CancelledError and KeyboardInterrupt are BaseException: untouched
        if is_unavailable(exc):
            raise DatabaseUnavailable(f"{operation}: database unavailable ({type(exc).__name__})") from exc
        raise StorageError(f"{operation} failed ({type(exc).__name__}: {_first_line(exc)})") from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else ""
