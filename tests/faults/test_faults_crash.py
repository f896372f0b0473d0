"""Worker crashes mid-stream: SIGKILL (nothing flushed) and SIGTERM (graceful), then a replacement worker.

A stream of 240 recordings is flowing (published in paced chunks from a background thread, over
about 12 s: longer than the worker, which measures every recording, needs for its first rows) when the
only worker is killed after its first rows are stored; a new worker process joins the group and takes
over from the last committed offsets. Batches that were written but not yet committed are redelivered
and the upsert on (recording id, model version) makes that harmless: every recording ends with
exactly one diagnosis row.
"""

from __future__ import annotations

import signal
import time

import pytest

from ecgstream.stack import LocalStack
from tests.e2e.helpers import isolated_settings
from tests.faults.harness import (
    Figures,
    PacedProducer,
    consume_diagnosis_ids,
    db_counts,
    exactly_once,
    metric_value,
    scrape_or_empty,
    wait_until,
)
from tests.faults.messages import copies, synthetic_recordings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

N_RECORDINGS = 240
FAULT_AFTER_ROWS = 30  # inject the fault once this many rows are stored (the stream is far from done)
SIGTERM_EXIT_BOUND_S = 30.0


def _processed(url: str) -> int:
    return int(metric_value(scrape_or_empty(url), "ecgstream_records_processed_total"))


def _run_crash_scenario(kind: str, tansu, database_url: str, suffix: str, home) -> None:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    recordings = copies(synthetic_recordings(20, seed=31), N_RECORDINGS)
    ids = [r.recording_id for r in recordings]
    settings = isolated_settings(tansu.bootstrap, database_url, home, suffix, topic_partitions=4, batch_max=8)
    extra: dict[str, object] = {"fault": kind}
    with LocalStack(settings, workers=1) as stack:
        stack.wait_ready()
        victim = stack.workers[0]
        producer = PacedProducer(stack.bootstrap, settings.recordings_topic, recordings, chunk=10, pause=0.5).start()
        rows_before = len(wait_until(
            lambda: (c := db_counts(database_url)) and len(c) >= FAULT_AFTER_ROWS and c, 60,
            f"{FAULT_AFTER_ROWS} rows before the fault", 0.1,
        ))  # fmt: skip
        processed_before = _processed(victim.metrics_url)
        published_at_fault = producer.published
        fault_at = time.monotonic()
        if kind == "sigkill":
            victim.kill()
            extra["victim_exit_code"] = victim.process.returncode if victim.process else None
        else:
            t0 = time.monotonic()
            victim.signal(signal.SIGTERM)
            assert victim.process is not None
            code = victim.process.wait(SIGTERM_EXIT_BOUND_S)  # raises TimeoutExpired past the bound
            extra["sigterm_exit_s"] = round(time.monotonic() - t0, 2)
            extra["victim_exit_code"] = code
        rows_at_fault = len(db_counts(database_url))
        extra.update(rows_when_fault_injected=rows_before, rows_after_victim_gone=rows_at_fault,
                     published_when_fault_injected=published_at_fault,
                     victim_processed_last_scrape=processed_before)  # fmt: skip
        assert rows_at_fault < N_RECORDINGS, "the fault must hit mid-stream"
        assert published_at_fault < N_RECORDINGS, "the stream was still being published when the fault hit"

        replacement = stack.add_worker()
        # wait for this worker to own every partition (stronger than stack.wait_ready(): no stale gauge)
        replacement.wait_metrics(90)
        wait_until(lambda: replacement.assigned_partitions() == 4, 60, "the replacement to own all 4 partitions")
        extra["replacement_ready_after_fault_s"] = round(time.monotonic() - fault_at, 1)
        producer.join()
        wait_until(lambda: len(db_counts(database_url)) >= N_RECORDINGS, 90, "every recording in the DB", 0.5)
        # the replacement's counter: what it (re)processed; give it a moment to finish the last batch
        time.sleep(1.0)
        replacement_metrics = scrape_or_empty(replacement.metrics_url)
        extra["replacement_processed"] = int(metric_value(replacement_metrics, "ecgstream_records_processed_total"))
        assert replacement.running
        events = consume_diagnosis_ids(stack.bootstrap, settings.diagnoses_topic, ids, timeout=60)

    counts = db_counts(database_url)
    rows, duplicates, missing, unexpected = exactly_once(counts, ids)
    extra["diagnosis_events"] = sum(events.values())
    extra["redelivered_events"] = sum(events.values()) - len(events)
    extra["ids_with_event"] = len(events)
    figures = Figures(f"crash_{kind}", sent=N_RECORDINGS, rows=rows, duplicates=duplicates, missing=missing,
                      dead_letters=0, wall_s=time.monotonic() - started, extra=extra)  # fmt: skip
    figures.save_metrics(replacement_metrics)
    figures.emit()
    assert counts == {recording_id: 1 for recording_id in ids}, "exactly one diagnosis row per recording"
    assert (rows, duplicates, missing, unexpected) == (N_RECORDINGS, 0, 0, 0)
    assert set(events) == set(ids), "every recording has a diagnosis event (at least one)"
    if kind == "sigterm":
        assert extra["victim_exit_code"] == 0, f"SIGTERM'd worker exit code {extra['victim_exit_code']}"


class _LiveWorkerStub:
    """Stands in for a healthy worker that owns every partition (no process needed)."""

    running = True

    def wait_metrics(self, timeout: float = 60.0) -> None:
        return None

    def assigned_partitions(self) -> int:
        return 4


def test_wait_ready_ignores_a_worker_that_is_already_dead(tmp_path):
    """After a crash, ``stack.wait_ready()`` must wait for the live workers only.

    Regression test: before 5b3266a it also waited for the dead worker's /metrics port and timed out.
    """
    import subprocess
    import sys

    from core.config import Settings
    from ecgstream.stack import WorkerProcess

    stack = LocalStack(Settings(home=tmp_path, topic_partitions=4))
    dead = WorkerProcess({}, tmp_path / "dead.log", "worker-dead")
    dead.process = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.process.wait()
    stack.workers = [dead, _LiveWorkerStub()]  # type: ignore[list-item]
    t0 = time.monotonic()
    stack.wait_ready(timeout=3.0)  # raises TimeoutError today
    assert time.monotonic() - t0 < 2.0


def test_sigkill_mid_stream_then_restart_loses_nothing_and_duplicates_nothing(
    tansu, fresh_postgres_url, unique_name, tmp_path
):
    _run_crash_scenario("sigkill", tansu, fresh_postgres_url, unique_name, tmp_path / "home")


def test_sigterm_mid_stream_exits_cleanly_and_hands_back_the_batch(tansu, fresh_postgres_url, unique_name, tmp_path):
    _run_crash_scenario("sigterm", tansu, fresh_postgres_url, unique_name, tmp_path / "home")
