"""Wait for diagnosis events of given recordings on the diagnoses topic (demo, tests, gateway-less tools)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping
from typing import Any

from schemas import DiagnosisEvent, SchemaError, decode_diagnosis

__all__ = ["collect_diagnoses"]


async def collect_diagnoses(
    bootstrap: str,
    topic: str,
    recording_ids: Iterable[str],
    timeout: float = 120.0,
    client_options: Mapping[str, Any] | None = None,
) -> dict[str, list[DiagnosisEvent]]:
    """Read ``topic`` from the beginning until every id in ``recording_ids`` has an event (or timeout).

    Returns every event seen per wanted recording id (duplicates included, so callers can count them).
    """
    from aiokafka import AIOKafkaConsumer, TopicPartition

    wanted = set(recording_ids)
    seen: dict[str, list[DiagnosisEvent]] = {}
    # No consumer group: assign every partition directly, so there is no group join to wait for.
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest",
                                enable_auto_commit=False, **dict(client_options or {}))  # fmt: skip
    await consumer.start()
    partitions = consumer.partitions_for_topic(topic) or set()
    if not partitions:
        await consumer.stop()
        raise ValueError(f"topic {topic!r} does not exist")
    consumer.assign([TopicPartition(topic, partition) for partition in sorted(partitions)])
    await consumer.seek_to_beginning()
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not wanted <= seen.keys():
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    try:
                        event = decode_diagnosis(record.value or b"", list(record.headers or []))
                    except SchemaError:
                        continue
                    if event.recording_id in wanted:
                        seen.setdefault(event.recording_id, []).append(event)
            await asyncio.sleep(0)
    finally:
        await consumer.stop()
    return seen
