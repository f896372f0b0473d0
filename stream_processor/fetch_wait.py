"""Bound how long the worker's consumer lets the broker park a fetch (faust hard-codes 1,500 ms).

faust-streaming builds its ``AIOKafkaConsumer`` with ``fetch_max_wait_ms=1500`` and offers no
setting for it. Apache Kafka answers a parked fetch as soon as data arrives, so there the value
only sets how often an idle consumer polls. Tansu (the development and test broker) answers only
when the wait expires, which added 0.3-0.7 s to every recording's latency at a steady trickle
(``docs/performance.md``). ``install`` caps the wait of every aiokafka ``Fetcher`` created
afterwards in this process.
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["install"]

_lock = threading.Lock()
_state: dict[str, Any] = {}


def install(max_wait_ms: int) -> None:
    """Cap ``fetch_max_wait_ms`` of every aiokafka consumer created from now on to ``max_wait_ms``.

    Idempotent: a second call only replaces the cap. Raises ``ValueError`` for a cap below 1 ms.
    """
    if max_wait_ms < 1:
        raise ValueError(f"fetch max wait must be at least 1 ms, got {max_wait_ms}")
    from aiokafka.consumer import fetcher

    with _lock:
        _state["max_wait_ms"] = int(max_wait_ms)
        if _state.get("patched"):
            return
        original_init = fetcher.Fetcher.__init__

        def capped_init(self: Any, *args: Any, **kwargs: Any) -> None:
            original_init(self, *args, **kwargs)
            self._fetch_max_wait_ms = min(int(self._fetch_max_wait_ms), _state["max_wait_ms"])

        fetcher.Fetcher.__init__ = capped_init  # type: ignore[method-assign]
        _state["patched"] = True
