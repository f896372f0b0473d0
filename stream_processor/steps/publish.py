"""publish: a batch's dead letters, then its diagnosis events, each retried as the policy table says.

Dead letters are retried on retriable Kafka errors; one the broker refuses for good goes out again
without its original bytes, and if that fails too it is logged with its source offset (the original
stays in the recordings topic). Diagnosis events are retried on every error: the diagnosis is
already stored.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from schemas import DeadLetter, DiagnosisEvent, EncodedEvent, encode_dead_letter, encode_diagnosis
from stream_processor.policy import is_retriable_kafka_error, without_original
from stream_processor.publishing import ResultPublisher
from stream_processor.retry import retry_forever

__all__ = ["Publishing"]

logger = logging.getLogger(__name__)


class Publishing:
    """Sends the worker's two outputs through a ``ResultPublisher``; returns once the broker has them."""

    def __init__(
        self,
        publisher: ResultPublisher,
        diagnoses_topic: str,
        deadletter_topic: str,
        retry_max_seconds: float,
    ) -> None:
        self.publisher = publisher
        self.diagnoses_topic = diagnoses_topic
        self.deadletter_topic = deadletter_topic
        self.retry_max_seconds = retry_max_seconds

    async def dead_letters(self, letters: Sequence[DeadLetter]) -> None:
        """Dead letters go out whole; if the broker refuses them for good, without their original bytes."""
        try:
            await self._publish(self.deadletter_topic, [encode_dead_letter(dl) for dl in letters])
            return
        except Exception as exc:  # noqa: BLE001 - a non-retriable refusal; see policy table
            logger.error("dead letters refused; resending without original bytes", extra={"error": repr(exc)})
        stripped = [without_original(dl) for dl in letters]
        try:
            await self._publish(self.deadletter_topic, [encode_dead_letter(dl) for dl in stripped])
        except Exception as exc:  # noqa: BLE001
            for dl in letters:
                logger.error(
                    "dead letter lost; the original stays in the recordings topic",
                    extra={"position": f"{dl.source_topic}[{dl.source_partition}]@{dl.source_offset}",
                           "reason": dl.reason, "error": repr(exc)},
                )  # fmt: skip

    async def diagnoses(self, events: Sequence[DiagnosisEvent]) -> None:
        """The diagnosis events, retried on every error until the broker takes them."""
        await self._publish(self.diagnoses_topic, [encode_diagnosis(event) for event in events], always=True)

    async def _publish(self, topic: str, events: list[EncodedEvent], *, always: bool = False) -> None:
        """Publish, retrying retriable Kafka errors (``always``: every error) with backoff."""
        if not events:
            return
        await retry_forever(
            lambda: self.publisher.publish(topic, events),
            transient=(lambda _exc: True) if always else is_retriable_kafka_error,
            what=f"publish to {topic}",
            max_delay=self.retry_max_seconds,
        )
