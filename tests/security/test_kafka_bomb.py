"""Finding 4: a zstd bomb on the recordings topic is skipped and reported; the partition keeps flowing.

A 33 KB record batch that inflates to 1 GiB is written to the recordings topic between valid
recordings on the same (only) partition, and a real worker process consumes it. Before the fix the
worker inflated it inside aiokafka's fetcher (about 2 GB more RSS) before MAX_RECORDING_BYTES could
be checked; under a memory limit it crash-looped at that offset forever.
"""

from __future__ import annotations

import asyncio

import pytest

from ecgstream.stack import LocalStack
from schemas import encode_recording
from tests.e2e.helpers import isolated_settings
from tests.faults.harness import consume_dead_letters, db_counts, metric_value, produce, scrape, wait_until
from tests.faults.messages import synthetic_recordings
from tests.security.kafka_bombs import send_raw_batch, zstd_bomb_batch

pytestmark = pytest.mark.integration

GiB = 1024**3
MAX_RECORDING_BYTES = 600_000
BOMB_INFLATED_BYTES = 1 * GiB
WORKER_EXTRA_RSS_BOUND = 300 * 1024 * 1024  # far below the 1 GiB (x2 with the copy) the bomb would take


def _peak_rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as handle:
        line = next(line for line in handle if line.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024


def test_a_zstd_bomb_is_skipped_reported_and_the_partition_keeps_flowing(
    tansu, fresh_postgres_url, unique_name, tmp_path, monkeypatch
):
    monkeypatch.setenv("MAX_RECORDING_BYTES", str(MAX_RECORDING_BYTES))
    settings = isolated_settings(tansu.bootstrap, fresh_postgres_url, tmp_path / "home", unique_name,
                                 topic_partitions=1, max_recording_bytes=MAX_RECORDING_BYTES)  # fmt: skip
    before, after = synthetic_recordings(2, seed=61), synthetic_recordings(3, seed=62)
    topic = settings.recordings_topic
    batch = zstd_bomb_batch(BOMB_INFLATED_BYTES)
    with LocalStack(settings, workers=1) as stack:
        stack.wait_ready()
        worker = stack.workers[0]
        assert worker.process is not None
        asyncio.run(produce(stack.bootstrap, topic, [encode_recording(r) for r in before]))
        wait_until(lambda: len(db_counts(fresh_postgres_url)) >= len(before), 60, "the recordings before the bomb")
        baseline = _peak_rss_bytes(worker.process.pid)
        bomb_offset = asyncio.run(send_raw_batch(stack.bootstrap, topic, 0, batch))
        # reported on its own, before anything follows it on the partition
        letters = consume_dead_letters(stack.bootstrap, settings.deadletter_topic, 1, timeout=30)
        asyncio.run(produce(stack.bootstrap, topic, [encode_recording(r) for r in after]))
        wait_until(lambda: len(db_counts(fresh_postgres_url)) >= len(before) + len(after), 60,
                   "the recordings behind the bomb on the same partition")  # fmt: skip
        assert len(consume_dead_letters(stack.bootstrap, settings.deadletter_topic, 2, timeout=3)) == 1
        metrics = scrape(worker.metrics_url)
        peak = _peak_rss_bytes(worker.process.pid)
        alive = worker.running
    print(f"\nKAFKA-BOMB-FIGURES batch {len(batch)} B -> {BOMB_INFLATED_BYTES} B; worker peak RSS "
          f"{baseline / 2**20:.0f} MiB before the bomb, {peak / 2**20:.0f} MiB after")
    assert alive, "the worker survives the bomb"
    assert db_counts(fresh_postgres_url) == {r.recording_id: 1 for r in before + after}
    assert [(dl.reason, dl.source_topic, dl.source_partition, dl.source_offset) for dl in letters] == [
        ("decompression_bomb", topic, 0, bomb_offset)
    ]
    assert letters[0].original_value == b"" and f"offsets {bomb_offset}-{bomb_offset}" in letters[0].message
    assert metric_value(metrics, "ecgstream_dead_letters_total", 'reason="decompression_bomb"') == 1
    assert peak - baseline < WORKER_EXTRA_RSS_BOUND
