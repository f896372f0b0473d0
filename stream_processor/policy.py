"""The worker's failure policy, in one place.

| failure | what happens |
|---|---|
| undecodable bytes, missing/garbled headers (``SchemaError``) | dead-letter topic, reason ``undecodable`` |
| unknown schema version (``UnknownSchemaVersion``) | dead-letter topic, reason ``unknown_schema_version`` |
| message larger than MAX_RECORDING_BYTES | dead-letter topic, reason ``oversize`` |
| signal fails validation (``InvalidRecording``) | dead-letter topic, with the validation reason |
| the model fails on one recording (isolated by re-running the batch one by one) | dead-letter, ``inference_error`` |
| database unreachable (``DatabaseUnavailable``) | retry the same batch with capped exponential backoff, forever; no offset is committed meanwhile |
| Kafka produce of results fails | retry with backoff, like the database |
| any other database error (``StorageError``) | the batch's recordings go to the dead-letter topic, reason ``storage_error`` |
| SIGTERM / rebalance mid-batch | the batch is not acked, so its offsets are not committed: it is redelivered and the upsert makes the redelivery harmless |

Every dead letter carries the original bytes and headers, the reason, a message and the source offset.
Dead-lettered messages are acked: a poison message can never wedge a partition.
"""

from __future__ import annotations

from schemas.errors import EcgstreamError, InvalidRecording

__all__ = ["dead_letter_reason", "OVERSIZE", "INFERENCE_ERROR", "STORAGE_ERROR"]

OVERSIZE = "oversize"
INFERENCE_ERROR = "inference_error"
STORAGE_ERROR = "storage_error"


def dead_letter_reason(error: EcgstreamError) -> str:
    """The ``reason`` label of a dead letter for ``error`` (bounded set: used as a metric label)."""
    if isinstance(error, InvalidRecording):
        return error.reason or "invalid_recording"
    return error.reason or "undecodable"
