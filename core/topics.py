"""The pipeline's topics: names, partition counts and size limits, created idempotently; the one place
topics are created (worker, export service, gateway, ``ecgstream up`` and ``ecgstream publish``)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from core.config import Settings
from core.kafka_admin import ensure_topics
from core.kafka_security import KafkaSecurity
from core.sizes import REQUEST_HEADROOM_BYTES

__all__ = ["topic_layout", "max_message_bytes", "create_topics", "create_layout"]


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
    return settings.max_recording_bytes + REQUEST_HEADROOM_BYTES


async def create_layout(
    bootstrap: str,
    layout: Mapping[str, int],
    *,
    max_recording_bytes: int,
    client_options: Mapping[str, Any] | None = None,
) -> None:
    """Create the missing topics of ``layout`` (name -> partitions) with room for the largest recording."""
    await ensure_topics(
        bootstrap,
        layout,
        max_message_bytes=max_recording_bytes + REQUEST_HEADROOM_BYTES,
        client_options=client_options,
    )


async def create_topics(settings: Settings, bootstrap: str, names: Collection[str] | None = None) -> None:
    """Create the missing pipeline topics (only ``names`` of them when given) with ``max.message.bytes``
    room for the largest accepted recording."""
    layout = topic_layout(settings)
    if names is not None:
        layout = {name: partitions for name, partitions in layout.items() if name in names}
    await create_layout(
        bootstrap,
        layout,
        max_recording_bytes=settings.max_recording_bytes,
        client_options=KafkaSecurity.from_settings(settings).aiokafka_options(),
    )
