"""Two worker processes in one consumer group share a 4-partition topic; every recording is diagnosed once."""

from __future__ import annotations

import time

import pytest

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

pytestmark = [pytest.mark.integration, pytest.mark.slow]

N_RECORDINGS = 240


def test_two_workers_share_four_partitions_and_diagnose_each_recording_once(
    tansu, fresh_postgres_url, unique_name, tmp_path
):
    started = time.monotonic()
    recordings = copies(synthetic_recordings(20, seed=21), N_RECORDINGS)
    ids = [r.recording_id for r in recordings]
    settings = isolated_settings(tansu.bootstrap, fresh_postgres_url, tmp_path / "home", unique_name,
                                 topic_partitions=4, batch_max=16)  # fmt: skip
    with LocalStack(settings, workers=2) as stack:
        stack.wait_ready()
        first, second = stack.workers
        # wait for the balanced assignment (2 + 2), not just "the group owns all 4"
        wait_until(lambda: first.assigned_partitions() == 2 and second.assigned_partitions() == 2, 60,
                   "a 2 + 2 partition assignment")  # fmt: skip
        producer = PacedProducer(stack.bootstrap, settings.recordings_topic, recordings, chunk=20, pause=0.05).start()
        producer.join()
        wait_until(lambda: len(db_counts(fresh_postgres_url)) >= N_RECORDINGS, 90, "all recordings in the DB", 0.5)
        per_worker = [0.0, 0.0]

        def counters_settled() -> bool:
            per_worker[:] = [metric_value(scrape(w.metrics_url), "ecgstream_records_processed_total")
                             for w in stack.workers]  # fmt: skip
            return sum(per_worker) >= N_RECORDINGS

        wait_until(counters_settled, 30, "the workers' counters to add up to the recordings sent")
        assert all(w.running for w in stack.workers), "no worker died"
        dead = [metric_value(scrape(w.metrics_url), "ecgstream_dead_letters_total") for w in stack.workers]
        sample_metrics = scrape(first.metrics_url)

    counts = db_counts(fresh_postgres_url)
    rows, duplicates, missing, unexpected = exactly_once(counts, ids)
    figures = Figures("scale_out", sent=N_RECORDINGS, rows=rows, duplicates=duplicates, missing=missing,
                      dead_letters=int(sum(dead)), wall_s=time.monotonic() - started,
                      extra={"processed_per_worker": [int(x) for x in per_worker], "partitions": 4, "workers": 2})  # fmt: skip
    figures.save_metrics(sample_metrics)
    figures.emit()
    assert counts == {recording_id: 1 for recording_id in ids}
    assert (rows, duplicates, missing, unexpected) == (N_RECORDINGS, 0, 0, 0)
    assert all(n > 0 for n in per_worker), f"both workers processed some recordings: {per_worker}"
    assert sum(per_worker) == N_RECORDINGS, "no redelivery without a fault: each processed exactly once"
