"""core.topics, the one place topics are created, against a real Tansu broker."""

from __future__ import annotations

from dataclasses import replace

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from core.config import Settings
from core.sizes import DEFAULT_MAX_RECORDING_BYTES, REQUEST_HEADROOM_BYTES
from core.topics import create_topics, max_message_bytes, topic_layout


def named(suffix: str, partitions: int = 3) -> Settings:
    return replace(
        Settings(),
        recordings_topic=f"rec-{suffix}", diagnoses_topic=f"dx-{suffix}", deadletter_topic=f"dl-{suffix}",
        fhir_topic=f"fhir-{suffix}", overreads_topic=f"over-{suffix}", topic_partitions=partitions,
    )  # fmt: skip


def test_the_size_limit_is_the_recording_limit_plus_the_headroom() -> None:
    assert Settings().max_recording_bytes == DEFAULT_MAX_RECORDING_BYTES == 4 * 1024 * 1024
    assert max_message_bytes(Settings()) == 5 * 1024 * 1024
    assert max_message_bytes(replace(Settings(), max_recording_bytes=1000)) == 1000 + REQUEST_HEADROOM_BYTES


def test_the_layout_names_every_pipeline_topic() -> None:
    assert topic_layout(named("x", 3)) == {"rec-x": 3, "dx-x": 3, "dl-x": 1, "fhir-x": 3, "over-x": 3}


async def _topics(bootstrap: str) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return {
            t["topic"]: len(t["partitions"]) for t in await admin.describe_topics() if t["error_code"] == 0
        }
    finally:
        await admin.close()


@pytest.mark.integration
async def test_create_topics_makes_the_named_ones_or_all(tansu, unique_name: str) -> None:
    settings = named(unique_name, 2)
    await create_topics(settings, tansu.bootstrap, (settings.recordings_topic, settings.overreads_topic))
    mine = {name: n for name, n in (await _topics(tansu.bootstrap)).items() if name.endswith(unique_name)}
    assert mine == {settings.recordings_topic: 2, settings.overreads_topic: 2}  # the gateway's two only
    await create_topics(settings, tansu.bootstrap)
    mine = {name: n for name, n in (await _topics(tansu.bootstrap)).items() if name.endswith(unique_name)}
    assert mine == topic_layout(settings)
