"""Shadow mode in a real worker process: real Tansu broker, real Postgres, the real CinC 2021 records.

``SHADOW_MODEL_PATH`` set to a derived model version: every recording gets its authoritative event and
row from ``MODEL_PATH`` as without a shadow, plus a ``shadow_diagnoses`` row and the shadow counters.
Set to a file that is no checkpoint: the worker starts, diagnoses every recording and counts the
failed load.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from benchmarks.replay_example import ALWAYS_CODE, threshold_checkpoint
from ecgstream.results_watch import collect_diagnoses
from ecgstream.stack import LocalStack
from storage import create_engine
from storage.shadow import ShadowDiagnosis
from tests.e2e.helpers import db_counts, isolated_settings, metric_value, publish_all, scrape
from tests.stream_processor.records import cinc_recordings

pytestmark = pytest.mark.integration


def _shadow_rows(url: str) -> list[dict]:
    async def read() -> list[dict]:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                return [r._asdict() for r in (await conn.execute(select(ShadowDiagnosis.__table__))).all()]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def _wait_for_rows(url: str, n: int, timeout: float = 30.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    rows = _shadow_rows(url)
    while len(rows) < n and time.monotonic() < deadline:  # the shadow write runs after the events
        time.sleep(0.25)
        rows = _shadow_rows(url)
    return rows


def test_a_shadow_model_runs_beside_the_authoritative_one(tansu, fresh_postgres_url, unique_name, tmp_path: Path):
    shadow_path = threshold_checkpoint(tmp_path / "shadow.pt")
    recordings = cinc_recordings()
    ids = [r.recording_id for r in recordings]
    settings = isolated_settings(tansu.bootstrap, fresh_postgres_url, tmp_path / "home", unique_name,
                                 shadow_model_path=shadow_path)  # fmt: skip
    with LocalStack(settings, workers=1) as stack:
        stack.wait_ready()
        asyncio.run(publish_all(stack.bootstrap, settings.recordings_topic, recordings))
        events = asyncio.run(collect_diagnoses(stack.bootstrap, settings.diagnoses_topic, ids, timeout=120))
        rows = _wait_for_rows(fresh_postgres_url, len(ids))
        metrics = scrape(stack.workers[0].metrics_url)

    assert sorted(events) == sorted(ids) and all(len(got) == 1 for got in events.values())
    versions = {got[0].model_version for got in events.values()}
    assert len(versions) == 1 and "never147" not in next(iter(versions)), "events come from MODEL_PATH only"
    assert not any(s.code == ALWAYS_CODE for got in events.values() for s in got[0].statements)
    assert db_counts(fresh_postgres_url) == {i: 1 for i in ids}, "one authoritative row each, no shadow row there"
    assert sorted(r["recording_id"] for r in rows) == sorted(ids)
    assert {r["authoritative_version"] for r in rows} == versions
    shadow_version = rows[0]["model_version"]
    assert shadow_version.endswith(f"-always{ALWAYS_CODE}")
    with_block = sum(any(s["code"] == ALWAYS_CODE for s in r["statements"]) for r in rows)
    assert with_block >= 8
    assert metric_value(metrics, "ecgstream_shadow_records_total") == len(ids)
    assert metric_value(metrics, "ecgstream_shadow_disagreements_total", f'code="{ALWAYS_CODE}"') == with_block
    assert metric_value(metrics, "ecgstream_shadow_model_info", f'version="{shadow_version}"') == 1.0
    assert metric_value(metrics, "ecgstream_records_processed_total") == len(ids)


def test_a_broken_shadow_checkpoint_still_lets_the_worker_diagnose(tansu, fresh_postgres_url, unique_name,
                                                                   tmp_path: Path):  # fmt: skip
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"PK\x03\x04 truncated checkpoint")
    recordings = cinc_recordings()[:4]
    ids = [r.recording_id for r in recordings]
    settings = isolated_settings(tansu.bootstrap, fresh_postgres_url, tmp_path / "home", unique_name,
                                 shadow_model_path=broken)  # fmt: skip
    with LocalStack(settings, workers=1) as stack:
        stack.wait_ready()
        asyncio.run(publish_all(stack.bootstrap, settings.recordings_topic, recordings))
        events = asyncio.run(collect_diagnoses(stack.bootstrap, settings.diagnoses_topic, ids, timeout=120))
        metrics = scrape(stack.workers[0].metrics_url)
        log = (stack.log_dir / "worker-0.log").read_text()

    assert sorted(events) == sorted(ids) and db_counts(fresh_postgres_url) == {i: 1 for i in ids}
    assert metric_value(metrics, "ecgstream_shadow_failures_total", 'stage="load"') == 1.0
    assert metric_value(metrics, "ecgstream_shadow_records_total") == 0.0
    assert "shadow model not loaded; running without a shadow" in log
    assert _shadow_rows(fresh_postgres_url) == []
