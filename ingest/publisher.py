"""``Publisher``: validate, encode and publish recordings to Kafka (aiokafka producer).

Settings chosen for 60 s recordings: ``max_request_size`` = ``max_recording_bytes`` + 1 MiB
headroom for headers and batch overhead; zstd compression (lz4 optional); ``acks="all"``;
idempotence off (Tansu does not support it; ordering per key holds with one in-flight request per
partition, ``max_batch_size`` large enough for one recording); a short linger batches bulk runs.

The message key is the patient's keyed pseudonym (HMAC-SHA256 under ``patient_key_secret``, the
PATIENT_HMAC_SECRET) when the recording names a patient, never the clear reference or a plain hash.
``client_options`` are extra aiokafka connection arguments: TLS and SASL (built from the settings by
``core.kafka_security.aiokafka_security``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Mapping
from types import TracebackType
from typing import Any, Literal

from core.sizes import DEFAULT_MAX_RECORDING_BYTES, REQUEST_HEADROOM_BYTES
from schemas.codec import EncodedEvent
from schemas.errors import InvalidRecording
from schemas.recording import Recording
from schemas.recording_event import encode_recording
from schemas.validation import validate_recording

__all__ = ["Publisher", "Compression"]

logger = logging.getLogger(__name__)

Compression = Literal["zstd", "lz4", "gzip", "snappy", "none"]


class Publisher:
    """Async context manager publishing validated recordings to ``topic``.

    >>> async with Publisher("localhost:9092", "ecg.recordings.v1") as publisher:
    ...     partition, offset = await publisher.publish(recording)
    """

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        *,
        compression: Compression = "zstd",
        max_recording_bytes: int = DEFAULT_MAX_RECORDING_BYTES,
        linger_ms: int = 20,
        source: str = "ecgstream-publish",
        client_id: str = "ecgstream-publisher",
        patient_key_secret: str | None = None,
        client_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.compression = compression
        self.max_recording_bytes = max_recording_bytes
        self.linger_ms = linger_ms
        self.source = source
        self.client_id = client_id
        self._patient_key_secret = patient_key_secret
        self._client_options = dict(client_options or {})
        self._producer = None

    async def start(self) -> None:
        """Connect to the brokers; raises aiokafka's ``KafkaConnectionError`` when unreachable."""
        from aiokafka import AIOKafkaProducer

        request_size = self.max_recording_bytes + REQUEST_HEADROOM_BYTES
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap,
            client_id=self.client_id,
            acks="all",
            enable_idempotence=False,
            compression_type=None if self.compression == "none" else self.compression,
            max_request_size=request_size,
            max_batch_size=request_size,
            linger_ms=self.linger_ms,
            request_timeout_ms=30000,
            **self._client_options,
        )
        await producer.start()
        self._producer = producer
        logger.info("publisher started", extra={"topic": self.topic, "compression": self.compression})

    async def stop(self) -> None:
        """Flush pending messages and disconnect."""
        if self._producer is not None:
            producer, self._producer = self._producer, None
            await producer.stop()

    async def __aenter__(self) -> Publisher:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    def encode(self, rec: Recording) -> EncodedEvent:
        """Validate ``rec`` and encode it; raises ``InvalidRecording`` with a reason code."""
        validate_recording(rec)
        event = encode_recording(rec, source=self.source, key_secret=self._patient_key_secret)
        if len(event.value) > self.max_recording_bytes:
            raise InvalidRecording(
                f"encoded recording is {len(event.value)} bytes, above {self.max_recording_bytes}",
                reason="oversize",
            )
        return event

    async def publish(self, rec: Recording) -> tuple[int, int]:
        """Validate, encode and publish one recording; returns (partition, offset) once acknowledged."""
        return await (await self.send(rec))

    async def publish_event(self, topic: str, event: EncodedEvent) -> tuple[int, int]:
        """Publish an already encoded event (e.g. an overread) to ``topic`` on the same connection;
        returns (partition, offset) once the broker acknowledged it. aiokafka errors pass through."""
        if self._producer is None:
            raise RuntimeError("Publisher is not started: use `async with Publisher(...)`")
        future = await self._producer.send(topic, value=event.value, key=event.key, headers=event.headers)
        metadata = await future
        return metadata.partition, metadata.offset

    async def send(self, rec: Recording) -> Awaitable[tuple[int, int]]:
        """Validate, encode and enqueue one recording without waiting for the broker.

        Returns an awaitable of (partition, offset); bulk publishers keep many in flight for
        throughput. Raises ``InvalidRecording`` at once for an invalid recording; the awaitable
        raises ``InvalidRecording(reason="oversize")`` when the broker refuses the size.
        """
        if self._producer is None:
            raise RuntimeError("Publisher is not started: use `async with Publisher(...)`")
        from aiokafka.errors import MessageSizeTooLargeError, RecordTooLargeError

        event = self.encode(rec)
        size = len(event.value)

        def refused(exc: Exception) -> InvalidRecording:
            return InvalidRecording(
                f"the broker refused a {size}-byte recording: raise max.message.bytes of topic "
                f"{self.topic} (core.topics sets it when it creates the topic)",
                reason="oversize",
            )

        try:
            future = await self._producer.send(
                self.topic, value=event.value, key=event.key, headers=event.headers
            )
        except (MessageSizeTooLargeError, RecordTooLargeError) as exc:
            raise refused(exc) from exc

        async def acknowledged() -> tuple[int, int]:
            try:
                metadata = await future
            except (MessageSizeTooLargeError, RecordTooLargeError) as exc:
                raise refused(exc) from exc
            logger.debug(
                "published recording",
                extra={
                    "topic": self.topic,
                    "partition": metadata.partition,
                    "offset": metadata.offset,
                    "bytes": size,
                },
            )
            return metadata.partition, metadata.offset

        return asyncio.ensure_future(acknowledged())
