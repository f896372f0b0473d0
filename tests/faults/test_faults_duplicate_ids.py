"""Two different recordings under one id (issue 10, finding 5): the second is dead-lettered as a
conflicting duplicate, no contradictory diagnosis event is published, and a redelivery of the first
stays a no-op whose event matches what was stored.

Real parts: Tansu, a fresh Postgres, a worker process. Before the fix the second recording was
dropped by the first-write-wins upsert while its own (different) diagnosis event was published.
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from ecgstream.stack import LocalStack
from schemas import SchemaError, decode_diagnosis, encode_recording
from storage import create_engine, get_diagnosis
from tests.e2e.helpers import isolated_settings
from tests.faults.harness import _consume, consume_dead_letters, db_counts, produce, wait_until
from tests.faults.messages import TEST_DEADLETTER_KEY, synthetic_recording

pytestmark = pytest.mark.integration

SHARED_ID = "A00001"  # an SPH file stem: every site's data set starts with it


def _stored(url: str):  # type: ignore[no-untyped-def]
    async def read():  # type: ignore[no-untyped-def]
        engine = create_engine(url)
        try:
            return await get_diagnosis(engine, SHARED_ID)
        finally:
            await engine.dispose()

    return asyncio.run(read())


def _events(bootstrap: str, topic: str, expected: int) -> list:  # type: ignore[type-arg]
    records = asyncio.run(_consume(bootstrap, topic, lambda rs: len(rs) >= expected, 60, idle_after_done=3.0))
    events = []
    for record in records:
        try:
            events.append(decode_diagnosis(record.value, list(record.headers or [])))
        except SchemaError:
            pass
    return [event for event in events if event.recording_id == SHARED_ID]


def test_conflicting_duplicate_is_dead_lettered_and_redelivery_republishes_the_stored_diagnosis(
    tansu, fresh_postgres_url, tmp_path, unique_name  # type: ignore[no-untyped-def]
) -> None:
    site_a = dataclasses.replace(synthetic_recording(101, hr=60.0), recording_id=SHARED_ID)
    site_b = dataclasses.replace(synthetic_recording(202, hr=130.0), recording_id=SHARED_ID, age=33)
    settings = isolated_settings(tansu.bootstrap, fresh_postgres_url, tmp_path / "home", unique_name,
                                 topic_partitions=2, deadletter_key=TEST_DEADLETTER_KEY)  # fmt: skip
    with LocalStack(settings, workers=1) as stack:
        stack.wait_ready()
        asyncio.run(produce(stack.bootstrap, settings.recordings_topic, [encode_recording(site_a)]))
        wait_until(lambda: db_counts(fresh_postgres_url).get(SHARED_ID), 90, "site A's diagnosis stored")
        first = _stored(fresh_postgres_url)
        # the same recording again (a redelivery) and a different recording with the same id
        asyncio.run(produce(stack.bootstrap, settings.recordings_topic,
                            [encode_recording(site_a), encode_recording(site_b)]))  # fmt: skip
        letters = consume_dead_letters(stack.bootstrap, settings.deadletter_topic, 1, timeout=90)
        events = _events(stack.bootstrap, settings.diagnoses_topic, 2)

    assert [dl.reason for dl in letters] == ["conflicting_duplicate"]
    assert db_counts(fresh_postgres_url) == {SHARED_ID: 1}
    stored = _stored(fresh_postgres_url)
    assert (stored.probabilities, stored.diagnosed_at, stored.age) == (first.probabilities, first.diagnosed_at, site_a.age)
    assert len(events) == 2, "the first diagnosis and the redelivery's republished one; none for site B"
    for event in events:  # every event matches the stored row: nothing contradicts it
        assert event.probabilities == stored.probabilities
        assert event.diagnosed_at == stored.diagnosed_at
