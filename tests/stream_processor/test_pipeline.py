"""``BatchPipeline``: the worker's overlapping batches keep at-least-once and ack order.

The real ``BatchProcessor`` with the real shipped model and measurement code, the in-memory sink
and publisher (no broker, no database: tests/faults run the same pipeline in real worker processes).
The sink is wrapped so a test can hold a write open (an event, not a timer) or make it fail.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from core.config import DEFAULT_MODEL_PATH
from model import Predictor
from schemas import decode_diagnosis, decode_recording, encode_recording
from storage import DiagnosisResult, InMemoryDiagnosisSink, WriteOutcome
from stream_processor.messages import IncomingMessage
from stream_processor.metrics import WorkerMetrics
from stream_processor.pipeline import MAX_UNFINISHED, BatchPipeline
from stream_processor.processing import AnalysisResult, BatchProcessor, PreparedBatch, ProcessorConfig
from stream_processor.publishing import InMemoryResultPublisher
from tests.faults.messages import synthetic_recordings

DIAGNOSES, DEADLETTER, TOPIC = "diagnoses-test", "deadletter-test", "recordings-test"


@pytest.fixture(scope="module")
def predictor() -> Predictor:
    return Predictor.load(DEFAULT_MODEL_PATH, torch_threads=1)


class GatedSink(InMemoryDiagnosisSink):
    """The in-memory sink; a write of a recording id in ``hold`` waits until ``release`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.hold: set[str] = set()
        self.release = asyncio.Event()
        self.waiting = asyncio.Event()
        self.fail_with: Exception | None = None

    async def write_batch(self, results: Sequence[DiagnosisResult]) -> WriteOutcome:
        if self.fail_with is not None:
            raise self.fail_with
        if self.hold & {r.recording_id for r in results}:
            self.waiting.set()
            await self.release.wait()
        return await super().write_batch(results)


class CountingProcessor(BatchProcessor):
    """Records how many analyses run at once and the order of the steps."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.in_analysis = 0
        self.most_in_analysis = 0
        self.steps: list[tuple[str, str]] = []  # (step, first recording id of the batch)

    async def analyse(self, batch: PreparedBatch) -> AnalysisResult:
        first = batch.valid[0].recording.recording_id
        self.in_analysis += 1
        self.most_in_analysis = max(self.most_in_analysis, self.in_analysis)
        self.steps.append(("analysis started", first))
        try:
            return await super().analyse(batch)
        finally:
            self.in_analysis -= 1
            self.steps.append(("analysis ended", first))


class Setup:
    def __init__(self, predictor: Predictor) -> None:
        self.sink, self.publisher = GatedSink(), InMemoryResultPublisher()
        config = ProcessorConfig(DIAGNOSES, DEADLETTER, max_recording_bytes=600_000, retry_max_seconds=0.05)
        self.processor = CountingProcessor(predictor, self.sink, self.publisher, WorkerMetrics.create(), config)
        self.acked: list[list[int]] = []
        self.published_when_acked: list[bool] = []
        self.pipeline = BatchPipeline(self.processor, self.ack)
        self.batches = [synthetic_recordings(3, seed=10 + k) for k in range(4)]
        self.offsets = iter(range(1000))

    async def ack(self, events: Sequence[Any]) -> None:
        offsets = [message.offset for message in events]
        ids = {decode_recording(message.value, message.headers).recording_id for message in events}
        published = {decode_diagnosis(e.value, e.headers).recording_id for e in self.publisher.events.get(DIAGNOSES, [])}
        stored = {recording_id for recording_id, _ in self.sink.diagnoses}
        self.published_when_acked.append(ids <= published and ids <= stored)
        self.acked.append(offsets)

    def messages(self, k: int) -> list[IncomingMessage]:
        encoded = [encode_recording(r) for r in self.batches[k]]
        return [IncomingMessage(TOPIC, 0, next(self.offsets), e.key, e.value, list(e.headers)) for e in encoded]

    async def submit(self, k: int) -> None:
        messages = self.messages(k)
        await self.pipeline.submit(messages, messages)  # the messages stand in for faust's events

    def ids(self, k: int) -> list[str]:
        return [r.recording_id for r in self.batches[k]]


async def test_batches_are_acked_in_order_only_after_they_are_stored_and_published(predictor: Predictor) -> None:
    setup = Setup(predictor)
    for k in range(4):
        await setup.submit(k)
    await setup.pipeline.flush()

    assert setup.acked == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]]
    assert setup.published_when_acked == [True] * 4
    assert setup.processor.most_in_analysis == 1
    assert len(setup.sink.diagnoses) == 12 and setup.sink.batches == [3, 3, 3, 3]


async def test_the_next_analysis_runs_while_a_batch_is_being_stored(predictor: Predictor) -> None:
    """Batch 0's write is held open: batch 1 is analysed meanwhile, batch 2 waits (bounded), no ack jumps ahead."""
    setup = Setup(predictor)
    setup.sink.hold = set(setup.ids(0))
    await setup.submit(0)
    await asyncio.wait_for(setup.sink.waiting.wait(), timeout=120)  # batch 0 analysed, its write held open
    await setup.submit(1)  # returns once batch 1's analysis has started, although batch 0 is not stored
    third = asyncio.create_task(setup.submit(2))

    async def batch_1_analysed() -> None:
        while ("analysis ended", setup.ids(1)[0]) not in setup.processor.steps:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(batch_1_analysed(), timeout=120)  # a bound against a hang, not a speed check
    for _ in range(20):
        await asyncio.sleep(0)
    assert not third.done(), f"a third batch waits while {MAX_UNFINISHED} are unacknowledged"
    assert setup.acked == []  # batch 1 is analysed but must not be acked before batch 0

    setup.sink.release.set()
    await third
    await setup.pipeline.flush()
    assert setup.acked == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert setup.published_when_acked == [True] * 3
    assert setup.processor.most_in_analysis == 1


async def test_close_cancels_what_is_in_flight_and_acks_none_of_it(predictor: Predictor) -> None:
    setup = Setup(predictor)
    setup.sink.hold = set(setup.ids(0))
    await setup.submit(0)
    await setup.sink.waiting.wait()
    await setup.submit(1)
    await setup.pipeline.close()  # worker shutdown or rebalance: both batches will be redelivered

    assert setup.acked == []
    assert setup.sink.diagnoses == {}
    await setup.pipeline.flush()  # nothing left


async def test_a_failed_batch_stops_the_acks_and_its_error_reaches_the_agent(predictor: Predictor) -> None:
    setup = Setup(predictor)
    await setup.submit(0)
    await setup.pipeline.flush()
    setup.sink.fail_with = RuntimeError("an unexpected sink bug")  # not a StorageError: not dead-lettered
    await setup.submit(1)
    with pytest.raises(RuntimeError, match="unexpected sink bug"):
        await setup.pipeline.flush()
    assert setup.acked == [[0, 1, 2]]  # batch 1 is never acked: it is redelivered after a restart
    await setup.pipeline.close()
