"""The worker's failure policy, in one place.

| failure | what happens |
|---|---|
| undecodable bytes (``SchemaError``) | dead-letter topic, reason ``undecodable`` |
| missing or garbled CloudEvents/Kafka headers (``SchemaError``) | dead-letter topic, reason ``bad_headers`` |
| a ``ce_type`` other than the recordings event (``SchemaError``) | dead-letter topic, reason ``wrong_event_type`` |
| unknown schema version (``UnknownSchemaVersion``) | dead-letter topic, reason ``unknown_schema_version`` |
| a compressed record batch that inflates beyond the fetch bound (zstd/gzip/lz4/snappy bomb) | the batch is skipped, its offsets reported in a dead letter (no original bytes), reason ``decompression_bomb``; the next batch of the partition is consumed |
| message larger than MAX_RECORDING_BYTES | dead-letter topic, reason ``oversize``; the letter carries the first 64 KiB of the original (encrypted, see below), its size and SHA-256 (the whole would not fit the topic) |
| signal fails validation (``InvalidRecording``) | dead-letter topic, with the validation reason: ``wrong_lead_count``, ``missing_leads``, ``wrong_lead_order``, ``sampling_rate_out_of_range``, ``duration_out_of_range``, ``non_finite``, ``implausible_amplitude``, ``flat_signal``, ``saturated_signal``, ``invalid_device_id``; any other ``InvalidRecording`` -> ``invalid_recording`` |
| a recording id already stored for a different recording (content hash differs: signal or demographics) | dead-letter topic, reason ``conflicting_duplicate``; nothing stored, no diagnosis event (it would contradict the stored one); a redelivery of the same recording (same hash) is a no-op that republishes the stored diagnosis |
| the model fails on one recording (isolated by re-running the batch one by one) | dead-letter, ``inference_error`` |
| ``UnsupportedFormat`` (a file reader's error; producers refuse such files before publishing) | dead-letter, ``unsupported_format`` |
| a ``SchemaError`` or other error without a reason of this table | dead-letter, ``undecodable`` (never an unbounded metric label) |
| database unreachable (``DatabaseUnavailable``) | retry the same batch with capped exponential backoff, forever; no offset is committed meanwhile |
| Kafka produce fails with a retriable error (connection, timeout, leader change) | retry with backoff, like the database |
| Kafka refuses a dead letter for good (e.g. too large for the topic) | publish it again without the original bytes (size and SHA-256 in the message); if that fails too, log it with its source offset and move on |
| Kafka refuses a diagnosis event for good | keep retrying: the diagnosis is already stored, an operator must fix the topic (alert on the retry logs) |
| any other database error (``StorageError``) | the batch's recordings go to the dead-letter topic, reason ``storage_error`` |
| SIGTERM / rebalance mid-batch | the batch is not acked, so its offsets are not committed: it is redelivered and the upsert makes the redelivery harmless |

Every dead letter carries the reason, a message and the source offset, and the original, protected so
that no patient reference is on the dead-letter topic in clear (``stream_processor.redaction``): a
message that decodes as a recording keeps its bytes with ``patient_ref`` replaced by its keyed hash;
any other original (undecodable, unknown version, oversize) is encrypted with AES-256-GCM under
``DEADLETTER_KEY`` (value and headers; ``redaction.decrypt_original`` recovers them), or dropped when
no key is set (size and SHA-256 stay in the message).
Dead-lettered messages are acked: a poison message can never wedge a partition.

What each dead letter looks like is built here too (``DeadLetters``, ``without_original``), beside
the table that says when it is sent.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime

from prometheus_client import Counter

from core.errors import EcgstreamError
from schemas.deadletter_event import DeadLetter
from schemas.errors import InvalidRecording
from stream_processor.inflate_guard import SkippedBatch
from stream_processor.messages import IncomingMessage
from stream_processor.redaction import OriginalProtection, protect_original

__all__ = [
    "dead_letter_reason", "is_retriable_kafka_error", "DeadLetters", "without_original",
    "OVERSIZE", "INFERENCE_ERROR", "STORAGE_ERROR", "DECOMPRESSION_BOMB", "CONFLICTING_DUPLICATE",
    "DEAD_LETTER_PREFIX_BYTES", "DEAD_LETTER_REASONS",
]  # fmt: skip

logger = logging.getLogger(__name__)

# An oversize original is cut to this many bytes in its dead letter (enough to inspect its header).
DEAD_LETTER_PREFIX_BYTES = 64 * 1024

OVERSIZE = "oversize"
INFERENCE_ERROR = "inference_error"
STORAGE_ERROR = "storage_error"
DECOMPRESSION_BOMB = "decompression_bomb"
CONFLICTING_DUPLICATE = "conflicting_duplicate"

# Every reason a dead letter can carry: the rows of the table above (a test keeps them in step with
# the reasons the code raises).
DEAD_LETTER_REASONS = frozenset({
    "undecodable", "bad_headers", "wrong_event_type", "unknown_schema_version", OVERSIZE,
    DECOMPRESSION_BOMB, "wrong_lead_count", "missing_leads", "wrong_lead_order",
    "sampling_rate_out_of_range", "duration_out_of_range", "non_finite", "implausible_amplitude",
    "flat_signal", "saturated_signal", "invalid_device_id", "invalid_recording", "unsupported_format", INFERENCE_ERROR, STORAGE_ERROR,
    CONFLICTING_DUPLICATE,
})  # fmt: skip


def dead_letter_reason(error: EcgstreamError) -> str:
    """The ``reason`` label of a dead letter for ``error``: always one of ``DEAD_LETTER_REASONS``."""
    fallback = "invalid_recording" if isinstance(error, InvalidRecording) else "undecodable"
    reason = error.reason or fallback
    return reason if reason in DEAD_LETTER_REASONS else fallback


def is_retriable_kafka_error(error: BaseException) -> bool:
    """True for produce failures that can succeed later (broker down, timeout, leader election).

    aiokafka marks its errors with ``retriable``; faust may wrap them (``raise ... from exc``).
    """
    from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError

    current: BaseException | None = error
    while current is not None:
        if isinstance(current, KafkaConnectionError | KafkaTimeoutError | ConnectionError | TimeoutError):
            return True
        if getattr(current, "retriable", False):
            return True
        current = current.__cause__
    return False


class DeadLetters:
    """The dead letter of each failure of the table: built, counted (``ecgstream_dead_letters_total``) and logged."""

    def __init__(self, protection: OriginalProtection, max_recording_bytes: int, counter: Counter) -> None:
        self.protection = protection
        self.max_recording_bytes = max_recording_bytes
        self._counter = counter  # labelled by reason

    def rejected(
        self, message: IncomingMessage, error: EcgstreamError, reason: str | None = None
    ) -> DeadLetter:
        """The letter of a message that failed with ``error``; ``reason`` overrides the table's reason."""
        reason = reason or dead_letter_reason(error)
        self._counter.labels(reason=reason).inc()
        protected = protect_original(
            message, self.protection, error.message, oversize=len(message.value) > self.max_recording_bytes
        )  # the error text may quote the input, so logs and the letter get the protected text only
        logger.warning(
            "message dead-lettered",
            extra={"reason": reason, "error": protected.message, "position": message.position},
        )
        return DeadLetter(
            reason=reason,
            message=protected.message,
            source_topic=message.topic,
            source_partition=message.partition,
            source_offset=message.offset,
            original_value=protected.value,
            original_headers=protected.headers,
            failed_at=datetime.now(UTC),
        )

    def skipped_batch(self, batch: SkippedBatch) -> DeadLetter:
        """The letter of a compressed record batch the consumer skipped: its offsets, no original bytes."""
        self._counter.labels(reason=DECOMPRESSION_BOMB).inc()
        return DeadLetter(
            reason=DECOMPRESSION_BOMB,
            message=f"{batch.codec} record batch at offsets {batch.first_offset}-{batch.last_offset} inflates "
                    f"beyond {batch.limit_bytes} bytes; skipped without decoding (original bytes omitted)",
            source_topic=batch.topic, source_partition=batch.partition, source_offset=batch.first_offset,
            original_value=b"", original_headers=[], failed_at=datetime.now(UTC),
        )  # fmt: skip


def without_original(letter: DeadLetter) -> DeadLetter:
    """``letter`` without its original bytes, for a broker that refused it for good (not counted again)."""
    return replace(
        letter,
        original_value=b"",
        message=f"{letter.message} [original bytes omitted: refused by the broker]",
    )
