"""Overreads reach the overreads topic at least once: what the broker did not take is sent again.

Real Tansu broker and Postgres. The failing publisher is a real ``Publisher`` that is not started (it
refuses every event, as one whose broker is gone does), not a mock."""

from __future__ import annotations

import asyncio

import pytest

from ingest.publisher import Publisher
from schemas.overread_event import decode_overread
from storage import create_engine, upgrade
from storage.overreads import add_overread, unpublished_overreads
from tests.storage.conftest import make_result
from tests.stream_processor.export_servers import read_topic
from webapp.overread_events import publish_overreads, republish_pending

pytestmark = pytest.mark.integration


async def _scenario(url: str, bootstrap: str, topic: str) -> list[int]:
    from storage import SqlDiagnosisSink

    engine = create_engine(url)
    try:
        result = make_result(recording_id="rec-pub")
        await SqlDiagnosisSink(engine, hmac_secret="s" * 20).write_batch([result])
        common = {"model_version": "cae-1.0.0", "statements": [], "reader": "user:dr", "reader_name": "dr"}
        first = await add_overread(engine, "rec-pub", action="reject", reason="noise", **common)
        second = await add_overread(engine, "rec-pub", action="edit", free_text="read it", **common)
        down = Publisher(bootstrap, "unused")  # never started: every publish fails
        assert await publish_overreads(engine, down, topic, [first, second]) == 0
        assert [r.version for r in await unpublished_overreads(engine)] == [1, 2]
        async with Publisher(bootstrap, "unused") as up:
            assert await republish_pending(engine, up, topic) == 2
            assert await republish_pending(engine, up, topic) == 0  # marked: not sent a third time
        return [r.version for r in await unpublished_overreads(engine)]
    finally:
        await engine.dispose()


def test_overreads_the_broker_did_not_take_are_published_again_in_order(tansu, fresh_postgres_url, unique_name):
    upgrade(fresh_postgres_url)
    topic = f"overreads-{unique_name}"
    assert asyncio.run(_scenario(fresh_postgres_url, tansu.bootstrap, topic)) == []
    events = asyncio.run(read_topic(tansu.bootstrap, topic, 2, timeout=30))
    decoded = [decode_overread(e.value, list(e.headers)) for e in events]
    assert [(e.version, e.action, e.amends_version) for e in decoded] == [(1, "reject", None), (2, "edit", None)]
