"""The dead-letter event: a message the worker could not process, the reason and its origin."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from schemas.codec import EncodedEvent, decode_event, encode_event
from schemas.recording_event import to_utc

__all__ = ["DEADLETTER_EVENT_TYPE", "DeadLetter", "encode_dead_letter", "decode_dead_letter"]

DEADLETTER_EVENT_TYPE = "org.ecgstream.deadletter"


@dataclass(frozen=True)
class DeadLetter:
    """Why a message failed and the message itself (value and headers, byte for byte)."""

    reason: str
    message: str
    source_topic: str
    source_partition: int
    source_offset: int
    original_value: bytes
    original_headers: list[tuple[str, bytes]]
    failed_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def encode_dead_letter(dl: DeadLetter, *, source: str = "ecgstream-worker") -> EncodedEvent:
    """The Kafka message of a dead letter; key = ``topic:partition:offset`` of the original."""
    failed_at = to_utc(dl.failed_at) or datetime.now(UTC)
    record = {
        "reason": dl.reason,
        "message": dl.message,
        "source_topic": dl.source_topic,
        "source_partition": int(dl.source_partition),
        "source_offset": int(dl.source_offset),
        "original_value": bytes(dl.original_value or b""),
        "original_headers": [{"key": str(k), "value": bytes(v or b"")} for k, v in dl.original_headers],
        "failed_at": failed_at,
    }
    key = f"{dl.source_topic}:{dl.source_partition}:{dl.source_offset}".encode()
    return encode_event(DEADLETTER_EVENT_TYPE, record, key=key, source=source, time=failed_at)


def decode_dead_letter(value: bytes, headers: Sequence[tuple[str, bytes]]) -> DeadLetter:
    """The ``DeadLetter`` of a dead-letter event; SchemaError / UnknownSchemaVersion when undecodable."""
    record = decode_event(value, headers, DEADLETTER_EVENT_TYPE)
    return DeadLetter(
        reason=record["reason"],
        message=record["message"],
        source_topic=record["source_topic"],
        source_partition=record["source_partition"],
        source_offset=record["source_offset"],
        original_value=record["original_value"],
        original_headers=[(h["key"], h["value"]) for h in record["original_headers"]],
        failed_at=to_utc(record["failed_at"]) or datetime.now(UTC),
    )
