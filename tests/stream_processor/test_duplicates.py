"""Conflicting duplicates in the batch logic (in-memory sink and publisher; the real parts are in
tests/faults/test_faults_duplicate_ids.py)."""

from __future__ import annotations

import dataclasses

import pytest

from core.config import DEFAULT_MODEL_PATH
from model import Predictor
from schemas import decode_dead_letter, decode_diagnosis, encode_recording
from storage import InMemoryDiagnosisSink
from stream_processor.duplicates import recording_content_sha256
from stream_processor.metrics import WorkerMetrics
from stream_processor.processing import BatchProcessor, ProcessorConfig
from stream_processor.publishing import InMemoryResultPublisher
from tests.faults.messages import synthetic_recording
from tests.stream_processor.test_processing import as_messages


@pytest.fixture(scope="module")
def predictor() -> Predictor:
    return Predictor.load(DEFAULT_MODEL_PATH, torch_threads=1)


def test_content_hash_separates_recordings_not_provenance() -> None:
    rec = synthetic_recording(1)
    same = dataclasses.replace(rec, device_id="another-cart", source="elsewhere")
    assert recording_content_sha256(rec, "s") == recording_content_sha256(same, "s")
    assert recording_content_sha256(rec, "s") != recording_content_sha256(dataclasses.replace(rec, age=(rec.age or 0) + 1), "s")
    assert recording_content_sha256(rec, "s") != recording_content_sha256(synthetic_recording(2), "s")
    with_ref = dataclasses.replace(rec, patient_ref="MRN-1")
    assert recording_content_sha256(with_ref, "s") != recording_content_sha256(dataclasses.replace(rec, patient_ref="MRN-2"), "s")


async def test_same_id_other_content_is_dead_lettered_and_redelivery_republishes_the_stored(predictor: Predictor) -> None:
    sink, publisher = InMemoryDiagnosisSink(), InMemoryResultPublisher()
    config = ProcessorConfig("diag", "dead", max_recording_bytes=600_000, retry_max_seconds=1.0)
    processor = BatchProcessor(predictor, sink, publisher, WorkerMetrics.create(), config)
    first = dataclasses.replace(synthetic_recording(1, hr=60.0), recording_id="A00001")
    other = dataclasses.replace(synthetic_recording(2, hr=140.0), recording_id="A00001")
    outcome = await processor.process(as_messages([encode_recording(first)]))
    assert (outcome.diagnosed, outcome.dead_lettered) == (1, 0)
    # one batch: a redelivery of the first, and a different recording under the same id
    outcome = await processor.process(as_messages([encode_recording(first), encode_recording(other)], first_offset=10))
    assert (outcome.diagnosed, outcome.dead_lettered) == (1, 1)
    (letter,) = [decode_dead_letter(e.value, e.headers) for e in publisher.events["dead"]]
    assert (letter.reason, letter.source_offset) == ("conflicting_duplicate", 11)
    events = [decode_diagnosis(e.value, e.headers) for e in publisher.events["diag"]]
    stored = sink.diagnoses[("A00001", predictor.version)]
    assert len(events) == 2
    assert all(e.probabilities == stored.probabilities and e.diagnosed_at == stored.diagnosed_at for e in events)
