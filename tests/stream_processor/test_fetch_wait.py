"""The worker's cap on the consumer's fetch wait, against the real Tansu broker.

Tansu answers a parked fetch only when its wait expires, so with faust's hard-coded 1,500 ms a
record that arrives while the consumer waits sits there until the wait ends. The cap must reach
consumers built with faust's value and cut that delay.
"""

from __future__ import annotations

import asyncio
import statistics
import time

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from stream_processor import fetch_wait

FAUST_FETCH_MAX_WAIT_MS = 1500  # what faust passes to AIOKafkaConsumer


async def _delivery_delays(bootstrap: str, topic: str, messages: int = 20) -> tuple[int, list[float]]:
    """(the consumer's effective fetch wait, seconds from send to receipt of a trickle of messages)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", fetch_max_wait_ms=FAUST_FETCH_MAX_WAIT_MS
    )
    await producer.start()
    await consumer.start()
    delays: list[float] = []
    try:
        effective = int(consumer._fetcher._fetch_max_wait_ms)

        async def receive() -> None:
            async for message in consumer:
                delays.append(time.time() - float(message.value.decode()))
                if len(delays) == messages:
                    return

        receiving = asyncio.create_task(receive())
        await asyncio.sleep(0.5)  # the consumer is now parked in a fetch
        for _ in range(messages):
            await producer.send_and_wait(topic, str(time.time()).encode())
            await asyncio.sleep(0.05)
        await asyncio.wait_for(receiving, 30)
    finally:
        await consumer.stop()
        await producer.stop()
    return effective, delays


def test_cap_reaches_faust_style_consumers_and_cuts_the_delay(tansu, unique_name):
    fetch_wait.install(60_000)  # no cap: faust's 1,500 ms stands
    uncapped_wait, uncapped = asyncio.run(_delivery_delays(tansu.bootstrap, f"fetch-a-{unique_name}"))
    fetch_wait.install(100)
    try:
        capped_wait, capped = asyncio.run(_delivery_delays(tansu.bootstrap, f"fetch-b-{unique_name}"))
    finally:
        fetch_wait.install(60_000)
    assert (uncapped_wait, capped_wait) == (FAUST_FETCH_MAX_WAIT_MS, 100)
    assert len(capped) == len(uncapped) == 20
    assert statistics.median(capped) < statistics.median(uncapped) / 3, (capped, uncapped)


def test_cap_below_one_millisecond_is_refused():
    with pytest.raises(ValueError, match="at least 1 ms"):
        fetch_wait.install(0)
