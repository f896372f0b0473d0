"""Deliver one message to one receiver: at most N attempts with exponential backoff, one outcome.

A sender raises ``DeliveryRejected`` when the receiver refused the message for good (HTTP 4xx, an
HL7 AE/AR acknowledgement: sending it again would be refused again) and ``TransientDeliveryError``
(or a network error / timeout) when another attempt may succeed. The outcome is ``delivered``,
``rejected`` or ``failed`` (every attempt failed). Log lines name the receiver kind, the recording
id, the attempt and the error class or status: never the message, the response body or the URL
(either may carry patient data or credentials).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from core.errors import EcgstreamError

__all__ = [
    "DeliveryOutcome",
    "DeliveryRejected",
    "TransientDeliveryError",
    "RetryPolicy",
    "deliver_with_retries",
]

logger = logging.getLogger(__name__)

DeliveryOutcome = Literal["delivered", "rejected", "failed"]


class DeliveryRejected(EcgstreamError):
    """The receiver refused the message; retrying cannot help. ``detail``: a status or ACK code."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class TransientDeliveryError(EcgstreamError):
    """The receiver could not take the message now; ``retry_after`` (s) when it said how long to wait."""

    def __init__(self, detail: str, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after


TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (TransientDeliveryError, OSError, asyncio.TimeoutError)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_seconds: float = 1.0
    max_seconds: float = 30.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based): base x 2^(attempt-1), capped."""
        delay = min(self.max_seconds, self.base_seconds * 2 ** (attempt - 1))
        if retry_after is not None:
            delay = max(delay, min(self.max_seconds, retry_after))
        return delay


def _describe(exc: BaseException) -> str:
    """A status or ACK code for our own errors, the class name for anything else (no message text)."""
    if isinstance(exc, DeliveryRejected | TransientDeliveryError):
        return exc.detail
    return type(exc).__name__


async def deliver_with_retries(
    send: Callable[[], Awaitable[None]],
    policy: RetryPolicy,
    *,
    receiver: str,
    recording_id: str,
    transient: tuple[type[BaseException], ...] = TRANSIENT_ERRORS,
    on_retry: Callable[[], None] | None = None,
) -> DeliveryOutcome:
    """Await ``send()`` until it succeeds, is rejected, or ``policy.max_attempts`` attempts failed."""
    attempts = max(1, policy.max_attempts)
    for attempt in range(1, attempts + 1):
        try:
            await send()
            if attempt > 1:
                logger.info("delivered after retries", extra={"receiver": receiver, "recording_id": recording_id,
                                                              "attempts": attempt})  # fmt: skip
            return "delivered"
        except DeliveryRejected as exc:
            logger.error("delivery rejected", extra={"receiver": receiver, "recording_id": recording_id,
                                                     "attempt": attempt, "detail": exc.detail})  # fmt: skip
            return "rejected"
        except transient as exc:
            if attempt == attempts:
                logger.error("delivery failed; giving up", extra={"receiver": receiver, "recording_id": recording_id,
                                                                 "attempts": attempt, "error": _describe(exc)})  # fmt: skip
                return "failed"
            delay = policy.delay(attempt, getattr(exc, "retry_after", None))
            logger.warning("delivery attempt failed; retrying", extra={
                "receiver": receiver, "recording_id": recording_id, "attempt": attempt, "error": _describe(exc),
                "retry_in_s": round(delay, 2)})  # fmt: skip
            if on_retry is not None:
                on_retry()
            await asyncio.sleep(delay)
    return "failed"  # unreachable: the loop returns on its last attempt
