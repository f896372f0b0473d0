"""A stream mixing valid and malformed messages: valid ones diagnosed once, bad ones dead-lettered.

Messages are sent with a raw aiokafka producer (no validation on the way in), interleaved so that
poison sits in the same batches and partitions as valid recordings. Every bad message must arrive on
the dead-letter topic with the right reason, its original bytes and headers and its source offset;
the per-reason counters must match; the worker must stay up and no partition may be wedged.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from ecgstream.stack import LocalStack
from schemas import EncodedEvent, encode_recording
from tests.e2e.helpers import isolated_settings
from tests.faults.harness import (
    Figures,
    consume_dead_letters,
    db_counts,
    exactly_once,
    metric_value,
    produce,
    scrape,
    wait_until,
)
from tests.faults.messages import (
    TEST_DEADLETTER_KEY,
    assert_carries_original,
    copies,
    poison_messages,
    synthetic_recording,
    synthetic_recordings,
)

MAX_RECORDING_BYTES = 600_000
N_VALID = 60
POISON_ROUNDS = 2  # every kind of bad message twice, in different places of the stream


def test_local_stack_hands_max_recording_bytes_to_workers(tmp_path):
    """Worker processes must get the stack's MAX_RECORDING_BYTES (and broker timeouts), not the defaults.

    Regression test: before 4b50e88 ``LocalStack.child_env()`` did not pass them on.
    """
    from core.config import Settings

    settings = Settings(home=tmp_path, max_recording_bytes=MAX_RECORDING_BYTES, broker_session_timeout=9.0)
    env = LocalStack(settings).child_env()
    assert env.get("MAX_RECORDING_BYTES") == str(MAX_RECORDING_BYTES)
    assert env.get("BROKER_SESSION_TIMEOUT") == "9.0"


@pytest.mark.integration
@pytest.mark.slow
def test_poison_messages_go_to_the_dead_letter_topic_and_valid_ones_are_diagnosed_once(
    tansu, fresh_postgres_url, unique_name, tmp_path, monkeypatch
):
    started = time.monotonic()
    # belt and braces: before 4b50e88 LocalStack.child_env() did not pass MAX_RECORDING_BYTES on
    monkeypatch.setenv("MAX_RECORDING_BYTES", str(MAX_RECORDING_BYTES))
    valid = copies(synthetic_recordings(12, seed=51), N_VALID - 3) + [
        synthetic_recording(901, fs=250.0, duration=30.0),
        synthetic_recording(902, fs=1000.0, duration=10.0),
        synthetic_recording(903, fs=500.0, duration=20.0),
    ]
    ids = [r.recording_id for r in valid]
    poison = [p for _ in range(POISON_ROUNDS) for p in poison_messages(MAX_RECORDING_BYTES)]
    # interleave: 2 valid, 1 bad, 2 valid, 1 bad, ...
    stream: list[tuple[str | None, EncodedEvent]] = []  # (expected reason or None for valid, event)
    valid_events = [encode_recording(r, source="ecgstream-fault-tests") for r in valid]
    bad_iter, good_iter = iter(poison), iter(valid_events)
    while True:
        added = 0
        for event in [next(good_iter, None), next(good_iter, None)]:
            if event is not None:
                stream.append((None, event))
                added += 1
        bad = next(bad_iter, None)
        if bad is not None:
            stream.append((bad.reason, EncodedEvent(bad.key, bad.value, bad.headers)))
            added += 1
        if not added:
            break

    settings = isolated_settings(tansu.bootstrap, fresh_postgres_url, tmp_path / "home", unique_name,
                                 topic_partitions=4, max_recording_bytes=MAX_RECORDING_BYTES,
                                 deadletter_key=TEST_DEADLETTER_KEY)  # fmt: skip
    with LocalStack(settings, workers=1) as stack:
        stack.wait_ready()
        worker = stack.workers[0]
        positions = asyncio.run(produce(stack.bootstrap, settings.recordings_topic, [e for _, e in stream]))
        expected = {
            position: (reason, event) for position, (reason, event) in zip(positions, stream, strict=True) if reason
        }
        wait_until(lambda: len(db_counts(fresh_postgres_url)) >= N_VALID, 90, "every valid recording in the DB", 0.5)
        letters = consume_dead_letters(stack.bootstrap, settings.deadletter_topic, len(expected), timeout=60)

        def settled() -> str:
            text = scrape(worker.metrics_url)
            done = metric_value(text, "ecgstream_records_processed_total") >= N_VALID
            return text if done else ""

        metrics = wait_until(settled, 30, "the worker's counters")
        assert worker.running, "poison never stops the worker"

    counts = db_counts(fresh_postgres_url)
    rows, duplicates, missing, unexpected = exactly_once(counts, ids)
    by_reason: dict[str, int] = {}
    for reason, _ in expected.values():
        by_reason[reason] = by_reason.get(reason, 0) + 1
    figures = Figures("poison", sent=len(stream), rows=rows, duplicates=duplicates, missing=missing,
                      dead_letters=len(letters), wall_s=time.monotonic() - started,
                      extra={"valid_sent": N_VALID, "bad_sent": len(expected), "dead_letters_by_reason": by_reason,
                             "max_recording_bytes": MAX_RECORDING_BYTES})  # fmt: skip
    figures.save_metrics(metrics)
    figures.emit()

    assert counts == {recording_id: 1 for recording_id in ids}, "every valid recording diagnosed exactly once"
    assert (rows, duplicates, missing, unexpected) == (N_VALID, 0, 0, 0)
    got = {(dl.source_partition, dl.source_offset): dl for dl in letters}
    assert len(got) == len(letters) == len(expected), "one dead letter per bad message, no more"
    assert got.keys() == expected.keys(), "dead letters carry the source partition and offset of the bad message"
    for position, (reason, event) in expected.items():
        dl = got[position]
        assert dl.reason == reason, (position, dl.reason, dl.message)
        assert dl.source_topic == settings.recordings_topic
        assert_carries_original(dl, event.value, MAX_RECORDING_BYTES, event.headers)
        assert dl.message
    for reason, count in by_reason.items():
        assert metric_value(metrics, "ecgstream_dead_letters_total", f'reason="{reason}"') == count, reason
    assert metric_value(metrics, "ecgstream_records_processed_total") == N_VALID


@pytest.mark.integration
def test_a_message_larger_than_the_dead_letter_limit_does_not_wedge_its_partition(
    tansu, fresh_postgres_url, unique_name, tmp_path, monkeypatch
):
    """A recording far above MAX_RECORDING_BYTES (2.9 MB vs 0.6 MB) followed, on the same partition, by
    valid ones: the big one reaches the dead-letter topic and the batch is acked.

    Regression test: before 5b3266a the dead letter carried the whole 2.9 MB original, above the
    producer's max_request_size (MAX_RECORDING_BYTES + 1 MiB), and ``BatchProcessor._publish`` retried
    MessageSizeTooLargeError forever: the batch was never acked and the partition was wedged (and
    SIGTERM hung in faust's wait_empty until the stack SIGKILLed the worker).
    """
    started = time.monotonic()
    monkeypatch.setenv("MAX_RECORDING_BYTES", str(MAX_RECORDING_BYTES))
    huge = encode_recording(synthetic_recording(950, fs=2000.0, duration=60.0))
    followers = copies(synthetic_recordings(3, seed=52), 5)
    same_key = [EncodedEvent(huge.key, e.value, e.headers) for e in (encode_recording(r) for r in followers)]
    settings = isolated_settings(tansu.bootstrap, fresh_postgres_url, tmp_path / "home", unique_name,
                                 topic_partitions=4, max_recording_bytes=MAX_RECORDING_BYTES,
                                 deadletter_key=TEST_DEADLETTER_KEY)  # fmt: skip
    with LocalStack(settings, workers=1) as stack:
        stack.wait_ready()
        worker = stack.workers[0]
        positions = asyncio.run(produce(stack.bootstrap, settings.recordings_topic, [huge, *same_key]))
        assert len({p for p, _ in positions}) == 1, "all on one partition"
        try:
            wait_until(lambda: len(db_counts(fresh_postgres_url)) >= len(followers), 45,
                       "the recordings behind the huge one", 0.5)  # fmt: skip
        finally:
            metrics = scrape(worker.metrics_url)
            Figures("huge_message", sent=1 + len(followers), rows=len(db_counts(fresh_postgres_url)),
                    dead_letters=int(metric_value(metrics, "ecgstream_dead_letters_total", 'reason="oversize"')),
                    wall_s=time.monotonic() - started,
                    extra={"huge_bytes": len(huge.value), "worker_alive": worker.running}).emit()  # fmt: skip
        letters = consume_dead_letters(stack.bootstrap, settings.deadletter_topic, 1, timeout=20)
    assert [(dl.reason, dl.source_offset) for dl in letters] == [("oversize", positions[0][1])]
    assert db_counts(fresh_postgres_url) == {r.recording_id: 1 for r in followers}
