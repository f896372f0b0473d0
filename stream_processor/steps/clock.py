"""The worker's clock: aware UTC timestamps and the seconds between two of them."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["utcnow", "seconds_between"]


def utcnow() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


def seconds_between(start: datetime | None, end: datetime) -> float | None:
    """``end - start`` in seconds (a naive ``start`` is taken as UTC); None without a ``start``."""
    if start is None:
        return None
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    return (end - start).total_seconds()
