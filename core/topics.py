"""The pipeline's topics: names, partition counts and size limits, created idempotently at start-up."""

from __future__ import annotations

from core.config import Settings
from core.kafka_admin import ensure_topics
from core.kafka_security import KafkaSecurity

__all__ = ["topic_layout", "max_message_bytes", "create_topics"]


def topic_layout(settings: Settings) -> dict[str, int]:
    """Topics the pipeline needs and their partition counts."""
    return {
        settings.recordings_topic: settings.topic_partitions,
        settings.diagnoses_topic: settings.topic_partitions,
        settings.deadletter_topic: 1,
        settings.fhir_topic: settings.topic_partitions,  # ecgstream export's Bundles, keyed by recording id
        settings.overreads_topic: settings.topic_partitions,  # the gateway's physician overreads, by recording id
    }


def max_message_bytes(settings: Settings) -> int:
    """Largest message on any pipeline topic: a maximal recording (or its dead letter) plus headroom."""
    return settings.max_recording_bytes + 1024 * 1024


async def create_topics(settings: Settings, bootstrap: str) -> None:
    """Create missing topics with ``max.message.bytes`` room for the largest accepted recording."""
    await ensure_topics(
        bootstrap,
        topic_layout(settings),
        max_message_bytes=max_message_bytes(settings),
        client_options=KafkaSecurity.from_settings(settings).aiokafka_options(),
    )
