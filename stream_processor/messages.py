"""The worker's view of one consumed Kafka message, independent of faust."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["IncomingMessage"]


@dataclass(frozen=True)
class IncomingMessage:
    """One message from the recordings topic with its position (for dead letters and logs)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]
    timestamp: datetime | None = None  # broker/producer timestamp of the message

    @classmethod
    def from_faust_event(cls, event: object) -> IncomingMessage:
        """Build from a faust ``Event`` (``event.message`` carries the Kafka record)."""
        message = event.message  # type: ignore[attr-defined]
        raw_headers = message.headers or []
        headers = list(raw_headers.items()) if isinstance(raw_headers, dict) else list(raw_headers)
        value = message.value if message.value is not None else b""
        timestamp = (
            datetime.fromtimestamp(float(message.timestamp), UTC) if message.timestamp else None
        )
        return cls(
            topic=message.topic,
            partition=int(message.partition),
            offset=int(message.offset),
            key=message.key,
            value=bytes(value),
            headers=[(str(k), bytes(v) if v is not None else b"") for k, v in headers],
            timestamp=timestamp,
        )

    @property
    def position(self) -> str:
        return f"{self.topic}[{self.partition}]@{self.offset}"
