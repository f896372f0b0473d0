"""Pure tests of ``BatchProcessor``: no broker, no database.

The real shipped model, ``InMemoryDiagnosisSink``, ``InMemoryResultPublisher`` and metrics in a fresh
registry. Messages are built byte for byte as the worker receives them (``IncomingMessage``).
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from core.config import DEFAULT_MODEL_PATH, parse_deadletter_key
from core.sizes import DEFAULT_MAX_RECORDING_BYTES
from model import Predictor
from schemas import EncodedEvent, decode_dead_letter, decode_diagnosis, encode_recording
from storage import InMemoryDiagnosisSink
from stream_processor.messages import IncomingMessage
from stream_processor.metrics import WorkerMetrics
from stream_processor.processing import BatchProcessor, ProcessorConfig
from stream_processor.publishing import InMemoryResultPublisher
from tests.faults.messages import (
    TEST_DEADLETTER_KEY,
    assert_carries_original,
    poison_messages,
    synthetic_recording,
    synthetic_recordings,
)

DIAGNOSES = "diagnoses-test"
DEADLETTER = "deadletter-test"
TOPIC = "recordings-test"
MAX_BYTES = 600_000


@pytest.fixture(scope="module")
def predictor() -> Predictor:
    return Predictor.load(DEFAULT_MODEL_PATH, torch_threads=1)


class Harness:
    def __init__(self, predictor: Predictor, max_bytes: int = MAX_BYTES) -> None:
        self.sink = InMemoryDiagnosisSink()
        self.publisher = InMemoryResultPublisher()
        self.metrics = WorkerMetrics.create()  # a fresh registry per test
        config = ProcessorConfig(DIAGNOSES, DEADLETTER, max_recording_bytes=max_bytes, retry_max_seconds=1.0,
                                 deadletter_key=parse_deadletter_key(TEST_DEADLETTER_KEY))  # fmt: skip
        self.processor = BatchProcessor(predictor, self.sink, self.publisher, self.metrics, config)

    def sample(self, name: str, labels: dict[str, str] | None = None) -> float:
        return self.metrics.registry.get_sample_value(name, labels or {}) or 0.0

    @property
    def diagnosis_events(self) -> list[EncodedEvent]:
        return self.publisher.events.get(DIAGNOSES, [])

    @property
    def dead_letter_events(self) -> list[EncodedEvent]:
        return self.publisher.events.get(DEADLETTER, [])


@pytest.fixture
def harness(predictor: Predictor) -> Harness:
    return Harness(predictor)


def as_messages(events: Sequence[EncodedEvent], first_offset: int = 0, partition: int = 0) -> list[IncomingMessage]:
    return [
        IncomingMessage(TOPIC, partition, first_offset + i, event.key, event.value, list(event.headers))
        for i, event in enumerate(events)
    ]


async def test_valid_batch_gives_one_result_and_one_event_per_recording(harness: Harness) -> None:
    recordings = synthetic_recordings(8, seed=1)
    ids = [r.recording_id for r in recordings]
    outcome = await harness.processor.process(as_messages([encode_recording(r) for r in recordings]))

    assert (outcome.diagnosed, outcome.dead_lettered) == (8, 0)
    assert harness.sink.counts_by_recording() == {i: 1 for i in ids}
    assert harness.sink.batches == [8], "one write per batch"
    events = [decode_diagnosis(e.value, e.headers) for e in harness.diagnosis_events]
    assert sorted(e.recording_id for e in events) == sorted(ids)
    assert sorted(e.key for e in harness.diagnosis_events) == sorted(i.encode() for i in ids), "keyed by id"
    assert all(len(e.probabilities) == 59 for e in events)
    assert harness.dead_letter_events == []
    stored = harness.sink.diagnoses[(ids[0], harness.processor.predictor.version)]
    assert (stored.source_topic, stored.source_partition, stored.source_offset) == (TOPIC, 0, 0)
    assert harness.sample("ecgstream_records_processed_total") == 8
    assert harness.sample("ecgstream_diagnoses_published_total") == 8
    assert harness.sample("ecgstream_batch_records_count") == 1
    assert harness.sample("ecgstream_batch_records_sum") == 8
    assert harness.sample("ecgstream_db_retries_total") == 0
    assert harness.sample("ecgstream_model_info", {"version": harness.processor.predictor.version}) == 1


async def test_malformed_messages_are_dead_lettered_and_valid_ones_still_diagnosed(harness: Harness) -> None:
    poison = poison_messages(MAX_BYTES)
    valid = synthetic_recordings(4, seed=2)
    valid_events = [encode_recording(r) for r in valid]
    # interleave: valid, poison, poison, valid, ...
    mixed: list[EncodedEvent] = []
    expected: dict[int, tuple[str, bytes, list[tuple[str, bytes]]]] = {}
    pending_valid = list(valid_events)
    for i, bad in enumerate(poison):
        if i % 3 == 0 and pending_valid:
            mixed.append(pending_valid.pop())
        expected[len(mixed)] = (bad.reason, bad.value, bad.headers)
        mixed.append(EncodedEvent(bad.key, bad.value, bad.headers))
    mixed.extend(pending_valid)
    offset0 = 100
    outcome = await harness.processor.process(as_messages(mixed, first_offset=offset0, partition=2))

    assert (outcome.diagnosed, outcome.dead_lettered) == (len(valid), len(poison))
    assert harness.sink.counts_by_recording() == {r.recording_id: 1 for r in valid}
    assert len(harness.diagnosis_events) == len(valid)
    letters = [decode_dead_letter(e.value, e.headers) for e in harness.dead_letter_events]
    got = {dl.source_offset - offset0: dl for dl in letters}
    assert sorted(got) == sorted(expected), "one dead letter per bad message, at its own offset"
    for position, (reason, value, headers) in expected.items():
        dl = got[position]
        assert dl.reason == reason, (position, dl.reason, dl.message)
        assert_carries_original(dl, value, MAX_BYTES, headers)
        assert (dl.source_topic, dl.source_partition) == (TOPIC, 2)
        assert dl.message
    by_reason: dict[str, int] = {}
    for bad in poison:
        by_reason[bad.reason] = by_reason.get(bad.reason, 0) + 1
    for reason, count in by_reason.items():
        assert harness.sample("ecgstream_dead_letters_total", {"reason": reason}) == count, reason
    assert harness.sample("ecgstream_records_processed_total") == len(valid)


@pytest.mark.parametrize("kind", ["random_bytes", "unknown_schema_version", "nan_gain", "overflowing_gain", "flat_lead", "microvolts_as_millivolts", "three_seconds", "eight_leads", "oversize"])
async def test_each_kind_of_bad_message_alone(harness: Harness, kind: str) -> None:
    bad = next(p for p in poison_messages(MAX_BYTES) if p.name == kind)
    ok = synthetic_recording(3)
    events = [EncodedEvent(bad.key, bad.value, bad.headers), encode_recording(ok)]
    outcome = await harness.processor.process(as_messages(events, first_offset=41))

    assert (outcome.diagnosed, outcome.dead_lettered) == (1, 1)
    (letter,) = [decode_dead_letter(e.value, e.headers) for e in harness.dead_letter_events]
    assert (letter.reason, letter.source_offset) == (bad.reason, 41)
    assert_carries_original(letter, bad.value, MAX_BYTES, bad.headers)
    assert harness.sink.counts_by_recording() == {ok.recording_id: 1}
    assert harness.sample("ecgstream_dead_letters_total", {"reason": bad.reason}) == 1


async def test_processing_the_same_batch_twice_leaves_the_sink_unchanged(harness: Harness) -> None:
    recordings = synthetic_recordings(5, seed=4)
    messages = as_messages([encode_recording(r) for r in recordings])
    await harness.processor.process(messages)
    snapshot = dict(harness.sink.diagnoses)
    first_times = {key: result.diagnosed_at for key, result in snapshot.items()}

    outcome = await harness.processor.process(messages)  # a redelivery after a crash before the commit

    assert outcome.diagnosed == 5
    assert harness.sink.diagnoses == snapshot
    assert {key: r.diagnosed_at for key, r in harness.sink.diagnoses.items()} == first_times, "first write wins"
    assert harness.sink.counts_by_recording() == {r.recording_id: 1 for r in recordings}
    assert len(harness.diagnosis_events) == 10, "events are at-least-once: consumers dedupe by recording id"


async def test_database_unavailable_twice_then_the_batch_is_written_once(harness: Harness) -> None:
    recordings = synthetic_recordings(3, seed=5)
    harness.sink.fail_next(2)

    outcome = await harness.processor.process(as_messages([encode_recording(r) for r in recordings]))

    assert outcome.diagnosed == 3
    assert harness.sink.calls == 3
    assert harness.sink.batches == [3], "written once"
    assert harness.sink.counts_by_recording() == {r.recording_id: 1 for r in recordings}
    assert harness.sample("ecgstream_db_retries_total") == 2
    assert harness.sample("ecgstream_db_write_seconds_count") == 1
    assert len(harness.diagnosis_events) == 3, "results published only after the write succeeded"


async def test_publish_failure_is_retried_and_nothing_is_lost(harness: Harness) -> None:
    recordings = synthetic_recordings(2, seed=6)
    harness.publisher.fail_next = 1
    outcome = await harness.processor.process(as_messages([encode_recording(r) for r in recordings]))
    assert outcome.diagnosed == 2
    assert len(harness.diagnosis_events) == 2
    assert harness.sink.batches == [2]


async def test_mixed_lengths_and_sampling_rates_in_one_batch(predictor: Predictor) -> None:
    harness = Harness(predictor, max_bytes=DEFAULT_MAX_RECORDING_BYTES)  # 30 s at 1 kHz is 720 kB
    shapes = [(250.0, 10.0), (250.0, 30.0), (500.0, 10.0), (500.0, 30.0), (1000.0, 10.0), (1000.0, 30.0)]
    recordings = [synthetic_recording(60 + i, fs=fs, duration=d) for i, (fs, d) in enumerate(shapes)]
    outcome = await harness.processor.process(as_messages([encode_recording(r) for r in recordings]))

    assert (outcome.diagnosed, outcome.dead_lettered) == (6, 0)
    assert harness.sink.batches == [6], "one batch, one write"
    version = harness.processor.predictor.version
    for recording, (fs, duration) in zip(recordings, shapes, strict=True):
        stored = harness.sink.diagnoses[(recording.recording_id, version)]
        assert (stored.sampling_rate_hz, stored.n_samples) == (fs, int(fs * duration))
        assert len(stored.probabilities) == 59
        assert all(0.0 <= p <= 1.0 for p in stored.probabilities.values())
    assert harness.sample("ecgstream_inference_seconds_count") == 1, "one forward pass for the batch"


async def test_process_acks_a_batch_only_after_it_is_stored_and_published(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chain ends in ack: called once with the batch's messages, after the write and the events;
    a batch whose write fails unexpectedly is never acked (it is redelivered)."""
    messages = as_messages([encode_recording(r) for r in synthetic_recordings(3, seed=7)])
    acked: list[tuple[list[int], int, int]] = []  # (offsets, rows stored, events published) at ack time

    async def ack(batch: Sequence[IncomingMessage]) -> None:
        acked.append(([m.offset for m in batch], len(harness.sink.diagnoses), len(harness.diagnosis_events)))

    await harness.processor.process(messages, ack)
    assert acked == [([0, 1, 2], 3, 3)]

    async def broken(results: object) -> None:  # injected: no real sink fails this way on demand
        raise RuntimeError("an unexpected sink bug")

    monkeypatch.setattr(harness.sink, "write_batch", broken)
    more = as_messages([encode_recording(r) for r in synthetic_recordings(2, seed=8)], first_offset=3)
    with pytest.raises(RuntimeError, match="sink bug"):
        await harness.processor.process(more, ack)
    assert len(acked) == 1, "a failed batch is not acked"
