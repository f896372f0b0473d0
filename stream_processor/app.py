"""The faust app: one agent that consumes the recordings topic in micro-batches.

Settings that matter for correctness:
- agent ``concurrency=1`` and ``stream_processor.pipeline``: one batch in analysis per worker while
  the next is decoded and the previous stored and published; batches are acked in order, so an
  offset is never committed past a message still being processed (faust commits the highest acked
  offset of each partition);
- ``noack_take``: the batch's events are acked by hand, only after the processor stored and
  published everything (``stream_processor.processing``: decode -> ... -> publish, then ack). A cancelled batch (SIGTERM, rebalance) is never acked, so it is redelivered.
- short session/heartbeat/rebalance timeouts (configurable) so a worker joins a group within seconds.

``build_app`` makes the app; ``add_diagnosis`` gives it the agent and the skipped-batch timer, both
driven by the one ``BatchProcessor`` the worker creates at start-up (``stream_processor.worker``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import faust

from core.config import Settings
from core.kafka_security import KafkaSecurity
from core.topics import max_message_bytes
from stream_processor import fetch_wait
from stream_processor.inflate_guard import SkippedBatch, install
from stream_processor.messages import IncomingMessage
from stream_processor.pipeline import BatchPipeline
from stream_processor.processing import BatchProcessor

__all__ = ["build_app", "add_diagnosis"]

logger = logging.getLogger(__name__)


def build_app(
    settings: Settings,
    bootstrap: str,
    on_assignment: Callable[[int], None] | None = None,
    on_skipped_batch: Callable[[SkippedBatch], None] | None = None,
) -> faust.App:
    """A faust app wired to ``bootstrap``, without its agent (``add_diagnosis``).

    ``on_assignment(n)`` is called after each rebalance with the number of recordings-topic partitions
    this worker now owns (exported as ``ecgstream_assigned_partitions``). ``on_skipped_batch`` hears
    of each compressed record batch the consumer skipped because it inflates beyond
    ``settings.max_inflated_batch_bytes`` (``stream_processor.inflate_guard``).
    """
    install(settings.max_inflated_batch_bytes, on_skipped_batch or (lambda _batch: None))
    fetch_wait.install(settings.fetch_max_wait_ms)
    max_bytes = max_message_bytes(settings)
    app = faust.App(
        settings.worker_group,
        broker=[f"kafka://{host}" for host in bootstrap.split(",")],
        store="memory://",
        value_serializer="raw",
        key_serializer="raw",
        topic_partitions=settings.topic_partitions,
        broker_session_timeout=settings.broker_session_timeout,
        broker_heartbeat_interval=settings.broker_heartbeat_interval,
        broker_rebalance_timeout=settings.broker_rebalance_timeout,
        broker_commit_interval=1.0,
        consumer_auto_offset_reset="earliest",
        consumer_max_fetch_size=max_bytes,
        producer_max_request_size=max_bytes,
        producer_acks=-1,
        producer_compression_type="zstd",
        web_enabled=False,
        # Do not wait on shutdown for the agent to drain: a batch stuck retrying a database write
        # would block SIGTERM forever. The cancelled batch is never acked, so it is handed back.
        stream_wait_empty=False,
        datadir=str(settings.home / "faust"),
        broker_credentials=KafkaSecurity.from_settings(settings).faust_credentials(),
    )

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]
    async def _assigned(sender: Any, assigned: Any, **_: Any) -> None:
        owned = sum(1 for tp in assigned if tp.topic == settings.recordings_topic)
        logger.info("partitions assigned", extra={"recordings_partitions": owned})
        if on_assignment is not None:
            on_assignment(owned)

    return app


def add_diagnosis(app: faust.App, settings: Settings, processor: BatchProcessor) -> None:
    """The agent that diagnoses the recordings topic through ``processor``, and the timer that
    dead-letters the compressed batches the consumer skipped. One processor serves both."""
    recordings = app.topic(
        settings.recordings_topic,
        partitions=settings.topic_partitions,
        value_serializer="raw",
        key_serializer="raw",
    )

    @app.timer(interval=1.0)
    async def report_skipped_batches() -> None:
        """Compressed batches skipped by the consumer are dead-lettered even if no message follows them."""
        await processor.report_skipped_batches()

    @app.agent(recordings, concurrency=1, name="diagnose")
    async def diagnose(stream: Any) -> None:
        async def ack(events: Sequence[Any]) -> None:
            for event in events:
                await stream.ack(event)

        pipeline = BatchPipeline(processor, ack)
        try:
            async for events in stream.noack_take(settings.batch_max, within=settings.batch_wait):
                await pipeline.submit(events, [IncomingMessage.from_faust_event(event) for event in events])
        finally:  # shutdown or a failed batch: what is in flight is not acked, so it is redelivered
            await pipeline.close()
