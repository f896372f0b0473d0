"""Where the worker sends diagnosis events and dead letters: a small interface and two implementations."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Protocol

from schemas import EncodedEvent

__all__ = ["ResultPublisher", "FaustResultPublisher", "InMemoryResultPublisher"]


class ResultPublisher(Protocol):
    async def publish(self, topic: str, events: Sequence[EncodedEvent]) -> None:
        """Send ``events`` to ``topic`` and return once the broker has acknowledged all of them."""


class FaustResultPublisher:
    """Publishes through the faust app's producer (one producer per worker process)."""

    def __init__(self, app: Any) -> None:
        self._app = app

    async def publish(self, topic: str, events: Sequence[EncodedEvent]) -> None:
        producer = self._app.producer
        pending = [
            await producer.send(topic, event.key, event.value, None, None, event.headers) for event in events
        ]
        await asyncio.gather(*pending)


class InMemoryResultPublisher:
    """Keeps events per topic in memory (for tests of the batching logic)."""

    def __init__(self) -> None:
        self.events: dict[str, list[EncodedEvent]] = defaultdict(list)
        self.fail_next: int = 0

    async def publish(self, topic: str, events: Sequence[EncodedEvent]) -> None:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise ConnectionError("simulated broker failure")
        self.events[topic].extend(events)
