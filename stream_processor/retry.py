"""Retry with capped exponential backoff for transient failures (database down, broker hiccup)."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

__all__ = ["retry_forever", "backoff_delays"]

logger = logging.getLogger(__name__)
T = TypeVar("T")


def backoff_delays(initial: float = 0.2, maximum: float = 30.0, factor: float = 2.0):  # type: ignore[no-untyped-def]
    """Infinite delays: initial, initial*factor, ... capped at ``maximum``, with +-20 % jitter."""
    delay = initial
    while True:
        yield delay * random.uniform(0.8, 1.2)
        delay = min(maximum, delay * factor)


async def retry_forever(
    operation: Callable[[], Awaitable[T]],
    *,
    transient: tuple[type[BaseException], ...] | Callable[[BaseException], bool],
    what: str,
    max_delay: float = 30.0,
    on_retry: Callable[[BaseException], None] | None = None,
) -> T:
    """Await ``operation()`` until it succeeds; ``transient`` errors are retried, others propagate.

    ``transient`` is a tuple of exception types or a predicate. Cancellation (worker shutdown)
    propagates immediately, leaving the batch un-acked.
    """
    is_transient = transient if callable(transient) else (lambda exc: isinstance(exc, transient))
    delays = backoff_delays(maximum=max_delay)
    attempt = 0
    while True:
        attempt += 1
        try:
            return await operation()
        except Exception as exc:
            if not is_transient(exc):
                raise
            delay = next(delays)
            if on_retry is not None:
                on_retry(exc)
            logger.warning(
                "transient failure, retrying",
                extra={"operation": what, "attempt": attempt, "retry_in_s": round(delay, 2), "error": repr(exc)},
            )
            await asyncio.sleep(delay)
