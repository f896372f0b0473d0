"""Latency under load: a paced producer at a fraction of the drain rate; publish -> diagnosis event.

Each latency is the diagnosis event's Kafka timestamp (set by the worker's producer when it sends
the event, after the database commit) minus the recording's publish time (``ce_time``, stamped by
the harness as it sent the message, carried into the event's ``ingested_at``). The database view
(row write time minus publish time) is reported beside it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from benchmarks.harness.environment import Phase
from benchmarks.harness.stats import percentile
from benchmarks.harness.workload import RawProducer, Workload
from schemas import SchemaError, decode_diagnosis

__all__ = ["measure_latency", "diagnosis_event_latencies"]

logger = logging.getLogger(__name__)


async def diagnosis_event_latencies(
    bootstrap: str, topic: str, ids: set[str], timeout: float = 120.0
) -> list[float]:
    """Seconds from publish to diagnosis event for every id in ``ids`` (read from the topic's start)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                auto_offset_reset="earliest", max_partition_fetch_bytes=8 * 1024 * 1024)  # fmt: skip
    await consumer.start()
    latencies: dict[str, float] = {}
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        consumer.assign([TopicPartition(topic, p) for p in sorted(partitions)])
        await consumer.seek_to_beginning()
        deadline = time.monotonic() + timeout
        while len(latencies) < len(ids) and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=500, max_records=2000)).values():
                for record in records:
                    try:
                        event = decode_diagnosis(record.value or b"", list(record.headers or []))
                    except SchemaError:
                        continue
                    if event.recording_id in ids and event.ingested_at is not None:
                        latencies.setdefault(
                            event.recording_id, record.timestamp / 1000 - event.ingested_at.timestamp()
                        )
            await asyncio.sleep(0)
    finally:
        await consumer.stop()
    return list(latencies.values())


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_s": percentile(values, 0.50),
        "p95_s": percentile(values, 0.95),
        "p99_s": percentile(values, 0.99),
        "max_s": max(values) if values else float("nan"),
    }


async def measure_latency(
    phase: Phase, workload: Workload, rate: float, seconds: float, already_stored: int
) -> dict[str, Any]:
    """Pace ``rate`` records/s for ``seconds`` into the phase's running worker(s); latency percentiles."""
    logger.info("paced producer starting", extra={"phase": phase.name, "records_per_s": round(rate, 1),
                                                  "seconds": seconds})  # fmt: skip
    async with RawProducer(phase.bootstrap, phase.topic) as producer:
        ids = await producer.send_paced(workload, rate, seconds)
    await phase.wait_stored(already_stored + len(ids), timeout=120 + len(ids) / 5)
    rows = await phase.database.rows(phase.topic, set(ids))
    events = await diagnosis_event_latencies(phase.bootstrap, phase.settings.diagnoses_topic, set(ids))
    return {
        "records": len(ids),
        "offered_records_per_s": rate,
        "seconds": seconds,
        "batch_wait_s": phase.settings.batch_wait,
        "event": {"records": len(events), **_summary(events)},
        "stored": _summary([(r.created_at - r.ingested_at).total_seconds() for r in rows]),
    }
