"""Postgres unreachable for several seconds mid-stream: the worker retries, commits nothing, resumes.

The shared Postgres server is never stopped: the worker reaches it through a TCP proxy run by the
test (127.0.0.1:<free port> -> 127.0.0.1:5432). The outage closes the proxy's listening socket (new
connections are refused) and aborts every proxied connection (the worker's pooled connections die
under it); restoring listens again on the same port.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy.engine import make_url

from core.config import Settings
from ecgstream.stack import LocalStack
from tests.e2e.helpers import isolated_settings
from tests.faults.harness import (
    Figures,
    PacedProducer,
    db_counts,
    exactly_once,
    metric_value,
    scrape,
    wait_until,
)
from tests.faults.messages import copies, synthetic_recordings
from tests.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.integration, pytest.mark.slow]

N_RECORDINGS = 240
FAULT_AFTER_ROWS = 30
OUTAGE_SECONDS = 8.0


async def _committed(bootstrap: str, group: str, topic: str, partitions: int) -> dict[int, int | None]:
    """Committed offsets of ``group`` (OffsetFetch through a consumer that never joins the group)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await reader.start()
    try:
        return {p: await reader.committed(TopicPartition(topic, p)) for p in range(partitions)}
    finally:
        await reader.stop()


def _proxied_pipeline(bootstrap: str, database_url: str, home, suffix: str) -> tuple[TcpProxy, Settings]:
    """A started TCP proxy in front of ``database_url`` and isolated settings whose workers use it."""
    real = make_url(database_url)
    proxy = TcpProxy(real.host or "127.0.0.1", real.port or 5432).start()
    proxied_url = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    settings = isolated_settings(bootstrap, proxied_url, home, suffix,
                                 topic_partitions=4, batch_max=8, db_retry_max_seconds=1.0)  # fmt: skip
    return proxy, settings


def test_database_outage_mid_stream_retries_without_committing_and_resumes(
    tansu, fresh_postgres_url, unique_name, tmp_path
):
    started = time.monotonic()
    recordings = copies(synthetic_recordings(20, seed=41), N_RECORDINGS)
    ids = [r.recording_id for r in recordings]
    proxy, settings = _proxied_pipeline(tansu.bootstrap, fresh_postgres_url, tmp_path / "home", unique_name)
    extra: dict[str, object] = {"outage_s": OUTAGE_SECONDS}
    try:
        with LocalStack(settings, workers=1) as stack:  # migrations run through the proxy
            stack.wait_ready()
            worker = stack.workers[0]
            producer = PacedProducer(stack.bootstrap, settings.recordings_topic, recordings, chunk=10, pause=0.2)
            producer.start()
            wait_until(lambda: len(db_counts(fresh_postgres_url)) >= FAULT_AFTER_ROWS, 60,
                       f"{FAULT_AFTER_ROWS} rows before the outage", 0.1)  # fmt: skip

            proxy.outage()
            outage_at = time.monotonic()
            extra["published_when_outage_began"] = producer.published
            # the retries counter moves: the worker noticed and is retrying
            wait_until(lambda: metric_value(scrape(worker.metrics_url), "ecgstream_db_retries_total") > 0, 10,
                       "the worker to retry the database write")  # fmt: skip
            time.sleep(max(0.0, outage_at + 2.0 - time.monotonic()))  # acks from before the outage get committed
            rows_a = len(db_counts(fresh_postgres_url))  # read directly, not through the proxy
            committed_a = asyncio.run(_committed(stack.bootstrap, settings.worker_group, settings.recordings_topic, 4))
            processed_a = metric_value(scrape(worker.metrics_url), "ecgstream_records_processed_total")
            while time.monotonic() < outage_at + OUTAGE_SECONDS:
                assert worker.running, "the worker must not crash while the database is down"
                time.sleep(0.5)
            metrics_during = scrape(worker.metrics_url)
            rows_b = len(db_counts(fresh_postgres_url))
            committed_b = asyncio.run(_committed(stack.bootstrap, settings.worker_group, settings.recordings_topic, 4))
            proxy.restore()
            restored_at = time.monotonic()

            extra.update(rows_during_outage=rows_a, committed_offsets_during_outage=committed_a,
                         retries_during_outage=metric_value(metrics_during, "ecgstream_db_retries_total"))  # fmt: skip
            assert rows_b == rows_a, "nothing written while the database is unreachable"
            assert committed_b == committed_a, "no offset committed while the batch is not stored"
            assert metric_value(metrics_during, "ecgstream_records_processed_total") == processed_a
            assert rows_a < N_RECORDINGS, "the outage hit mid-stream"

            producer.join()
            wait_until(lambda: len(db_counts(fresh_postgres_url)) >= N_RECORDINGS, 90,
                       "every recording in the DB after the outage", 0.5)  # fmt: skip
            extra["resume_to_complete_s"] = round(time.monotonic() - restored_at, 1)
            time.sleep(1.0)
            metrics = scrape(worker.metrics_url)
            assert worker.running, "the same worker process survived the outage"
            extra["proxied_connections"] = proxy.connections
    finally:
        proxy.close()

    counts = db_counts(fresh_postgres_url)
    rows, duplicates, missing, unexpected = exactly_once(counts, ids)
    retries = metric_value(metrics, "ecgstream_db_retries_total")
    processed = metric_value(metrics, "ecgstream_records_processed_total")
    extra.update(db_retries_total=retries, worker_processed=processed)
    figures = Figures("database_outage", sent=N_RECORDINGS, rows=rows, duplicates=duplicates, missing=missing,
                      dead_letters=int(metric_value(metrics, "ecgstream_dead_letters_total")),
                      wall_s=time.monotonic() - started, extra=extra)  # fmt: skip
    figures.save_metrics(metrics)
    figures.emit()
    assert counts == {recording_id: 1 for recording_id in ids}
    assert (rows, duplicates, missing, unexpected) == (N_RECORDINGS, 0, 0, 0)
    assert retries > 0
    assert processed == N_RECORDINGS, "the one worker diagnosed every recording once (no batch dropped)"
    assert metric_value(metrics, "ecgstream_dead_letters_total") == 0, "an outage is not a reason to dead-letter"


def test_sigterm_while_the_database_is_down_hands_the_batch_back(tansu, fresh_postgres_url, unique_name, tmp_path):
    """SIGTERM arrives while the worker is stuck retrying a write: it must exit by itself (code 0) within
    30 s without committing, and a replacement started after the database is back diagnoses the rest.

    Regression test: before 5b3266a (faust ``stream_wait_empty`` on) the worker waited forever for the
    un-acked batch and only a SIGKILL ended it.
    """
    import signal
    import subprocess

    started = time.monotonic()
    recordings = copies(synthetic_recordings(20, seed=42), N_RECORDINGS)
    ids = [r.recording_id for r in recordings]
    proxy, settings = _proxied_pipeline(tansu.bootstrap, fresh_postgres_url, tmp_path / "home", unique_name)
    extra: dict[str, object] = {}
    try:
        with LocalStack(settings, workers=1) as stack:
            stack.wait_ready()
            victim = stack.workers[0]
            producer = PacedProducer(stack.bootstrap, settings.recordings_topic, recordings, chunk=10, pause=0.2)
            producer.start()
            wait_until(lambda: len(db_counts(fresh_postgres_url)) >= FAULT_AFTER_ROWS, 60,
                       f"{FAULT_AFTER_ROWS} rows before the outage", 0.1)  # fmt: skip
            proxy.outage()
            wait_until(lambda: metric_value(scrape(victim.metrics_url), "ecgstream_db_retries_total") > 0, 10,
                       "the worker to retry the database write")  # fmt: skip
            time.sleep(1.5)
            committed_before = asyncio.run(_committed(stack.bootstrap, settings.worker_group,
                                                      settings.recordings_topic, 4))  # fmt: skip
            rows_before = len(db_counts(fresh_postgres_url))
            t0 = time.monotonic()
            victim.signal(signal.SIGTERM)
            assert victim.process is not None
            try:
                code: int | None = victim.process.wait(30)
            except subprocess.TimeoutExpired:  # hung: finish the scenario (data safety), fail at the end
                code = None
                victim.kill()
            extra["sigterm_exit_s"] = round(time.monotonic() - t0, 2)
            extra.update(victim_exit_code=code, rows_when_sigterm=rows_before)
            committed_after = asyncio.run(_committed(stack.bootstrap, settings.worker_group,
                                                     settings.recordings_topic, 4))  # fmt: skip
            assert committed_after == committed_before, "the un-stored batch was not committed on the way out"
            assert len(db_counts(fresh_postgres_url)) == rows_before
            proxy.restore()
            replacement = stack.add_worker()
            replacement.wait_metrics(90)
            producer.join()
            wait_until(lambda: len(db_counts(fresh_postgres_url)) >= N_RECORDINGS, 90,
                       "every recording in the DB", 0.5)  # fmt: skip
            time.sleep(1.0)
            extra["replacement_processed"] = metric_value(scrape(replacement.metrics_url),
                                                          "ecgstream_records_processed_total")  # fmt: skip
    finally:
        proxy.close()
    counts = db_counts(fresh_postgres_url)
    rows, duplicates, missing, unexpected = exactly_once(counts, ids)
    Figures("sigterm_during_db_outage", sent=N_RECORDINGS, rows=rows, duplicates=duplicates, missing=missing,
            wall_s=time.monotonic() - started, extra=extra).emit()  # fmt: skip
    assert code == 0, f"SIGTERM'd worker: exit code {code} after {extra['sigterm_exit_s']} s (None = still running at 30 s)"
    assert counts == {recording_id: 1 for recording_id in ids}
    assert (rows, duplicates, missing, unexpected) == (N_RECORDINGS, 0, 0, 0)
