"""decode -> validate: a consumed batch becomes its valid recordings and the dead letters of the rest.

Runs on the event loop. Each message is checked against ``MAX_RECORDING_BYTES``, decoded and
validated; the first failure dead-letters it (``stream_processor.policy``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from core.errors import EcgstreamError
from schemas import DeadLetter, InvalidRecording, Recording, decode_recording, recording_ingested_at
from schemas.validation import validate_recording
from stream_processor.messages import IncomingMessage
from stream_processor.metrics import WorkerMetrics
from stream_processor.policy import OVERSIZE, DeadLetters
from stream_processor.steps.clock import seconds_between, utcnow

__all__ = ["Admitted", "PreparedBatch", "decode", "validate", "decode_batch"]


@dataclass
class Admitted:
    """A message that decoded and validated: its recording and when it was ingested."""

    message: IncomingMessage
    recording: Recording
    ingested_at: datetime | None


@dataclass(frozen=True)
class PreparedBatch:
    """A decoded batch: its valid recordings and the dead letters of the invalid messages."""

    size: int  # messages consumed
    received_at: datetime
    valid: list[Admitted]
    dead: list[DeadLetter]


def decode(message: IncomingMessage, max_recording_bytes: int) -> Recording:
    """The recording in ``message``; raises ``InvalidRecording`` (``oversize``) or ``SchemaError``."""
    if len(message.value) > max_recording_bytes:
        raise InvalidRecording(
            f"message of {len(message.value)} bytes exceeds MAX_RECORDING_BYTES={max_recording_bytes}",
            reason=OVERSIZE,
        )
    return decode_recording(message.value, message.headers)


def validate(recording: Recording, message: IncomingMessage) -> Recording:
    """``recording`` if its signal and metadata are valid; raises ``InvalidRecording`` otherwise."""
    validate_recording(recording, encoded_size=len(message.value))
    return recording


def decode_batch(
    messages: Sequence[IncomingMessage],
    max_recording_bytes: int,
    letters: DeadLetters,
    metrics: WorkerMetrics,
) -> PreparedBatch:
    """Decode and validate every message; an invalid one becomes a dead letter, in message order."""
    received_at = utcnow()
    metrics.batch_records.observe(len(messages))
    valid: list[Admitted] = []
    dead: list[DeadLetter] = []
    for message in messages:
        try:
            recording = validate(decode(message, max_recording_bytes), message)
        except EcgstreamError as exc:
            dead.append(letters.rejected(message, exc))
            continue
        ingested_at = recording_ingested_at(message.headers) or message.timestamp
        wait = seconds_between(ingested_at, received_at)
        if wait is not None:
            metrics.queue_wait.observe(max(0.0, wait))
        valid.append(Admitted(message, recording, ingested_at))
    return PreparedBatch(len(messages), received_at, valid, dead)
