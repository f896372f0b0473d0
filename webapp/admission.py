"""Bounded admission for expensive requests (sign-ins, renders): refuse at once rather than queue without end.

An ``Admission`` lets at most ``total`` requests in at a time, and at most ``per_key`` of one key (a
principal); beyond that the request gets ``Busy`` (``429 Too Many Requests`` when one key holds its
share, ``503`` when everyone together is over the total), both with ``Retry-After``. Used from the
event loop only (no locks needed: nothing awaits between the check and the count).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from webapp.errors import Busy

__all__ = ["Admission"]


class Admission:
    """At most ``total`` holders, at most ``per_key`` per key; ``enter`` raises ``Busy`` beyond that."""

    def __init__(self, what: str, total: int, per_key: int | None = None, retry_after_seconds: int = 1) -> None:
        self.what = what
        self.total = max(1, total)
        self.per_key = per_key
        self.retry_after_seconds = retry_after_seconds
        self._held: Counter[str] = Counter()

    @property
    def in_flight(self) -> int:
        return sum(self._held.values())

    @contextmanager
    def enter(self, key: str = "") -> Iterator[None]:
        """Hold one place for ``key`` while the block runs; ``Busy`` (429/503) when there is none."""
        if self.per_key is not None and self._held[key] >= self.per_key:
            raise Busy(429, f"too_many_{self.what}",
                       f"at most {self.per_key} {self.what} at a time per credential; try again shortly",
                       self.retry_after_seconds)  # fmt: skip
        if self.in_flight >= self.total:
            raise Busy(503, f"{self.what}_busy", f"the server is busy with {self.what}; try again shortly",
                       self.retry_after_seconds)  # fmt: skip
        self._held[key] += 1
        try:
            yield
        finally:
            self._held[key] -= 1
            if not self._held[key]:
                del self._held[key]
