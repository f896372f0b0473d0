"""The worker computes the verdict, critical findings and beat positions once, stores them with the
diagnosis and publishes the stored ones: real CinC 2021 records (one with three flat leads, one with
its electrodes off), the real measurement, quality and fusion functions and the shipped model;
in-memory sink and publisher (the SQL sink is covered by tests/storage, the broker by tests/e2e)."""

from __future__ import annotations

import dataclasses

import pytest

from core.config import DEFAULT_MODEL_PATH
from interpretation.summary import clinical_summary
from measurements.measure import measure
from model import Predictor
from schemas import decode_diagnosis, decode_recording, encode_recording, new_recording_id
from schemas.beat_positions import BeatPositions
from storage import DiagnosisResult, InMemoryDiagnosisSink
from stream_processor.assessment import usable_leads
from stream_processor.messages import IncomingMessage
from stream_processor.metrics import WorkerMetrics
from stream_processor.processing import BatchProcessor, ProcessorConfig
from stream_processor.publishing import InMemoryResultPublisher
from tests.stream_processor.records import cinc_recordings, leads_off_recording

DIAGNOSES, DEADLETTER, TOPIC = "diagnoses-test", "deadletter-test", "recordings-test"


@pytest.fixture(scope="module")
def predictor() -> Predictor:
    return Predictor.load(DEFAULT_MODEL_PATH, torch_threads=1)


def _processor(
    predictor: Predictor, sink: InMemoryDiagnosisSink
) -> tuple[BatchProcessor, InMemoryResultPublisher]:
    publisher = InMemoryResultPublisher()
    config = ProcessorConfig(DIAGNOSES, DEADLETTER, max_recording_bytes=600_000, retry_max_seconds=1.0)
    return BatchProcessor(predictor, sink, publisher, WorkerMetrics.create(), config), publisher


def _messages(recordings) -> list[IncomingMessage]:  # type: ignore[no-untyped-def]
    events = [encode_recording(r) for r in recordings]
    return [IncomingMessage(TOPIC, 0, i, e.key, e.value, list(e.headers)) for i, e in enumerate(events)]


def _recomputed(stored: DiagnosisResult) -> dict[str, object]:
    return clinical_summary(stored.statements, stored.measurements, readable=stored.readable,
                            unreadable_reasons=stored.unreadable_reasons, quality=stored.quality).as_json()  # fmt: skip


async def test_stored_summary_and_beats_equal_the_recomputed_ones_and_the_event_carries_them(
    predictor: Predictor,
) -> None:
    from measurements.quality import assess_quality
    from measurements.units import amplitudes_in_mv

    real = cinc_recordings()
    flat3 = dataclasses.replace(real[1], signal=real[1].signal.copy(), recording_id=new_recording_id())
    flat3.signal[[2, 8, 11]] = 0.0
    recordings = [*real, flat3, leads_off_recording(real[0])]
    sink = InMemoryDiagnosisSink()
    processor, publisher = _processor(predictor, sink)
    await processor.process(_messages(recordings))
    events = {
        e.recording_id: e for e in (decode_diagnosis(x.value, x.headers) for x in publisher.events[DIAGNOSES])
    }

    measured = 0
    for rec in recordings:
        stored = sink.diagnoses[(rec.recording_id, predictor.version)]
        assert stored.verdict is not None and stored.critical_findings is not None
        assert {"verdict": stored.verdict, "critical_findings": stored.critical_findings} == _recomputed(
            stored
        )
        event = events[rec.recording_id]
        assert (event.verdict, event.critical_findings) == (stored.verdict, stored.critical_findings)
        if stored.measurements is None:
            assert stored.beats is None and not stored.readable, "no measurement, no beats"
            continue
        # the worker's own measurement of the samples it decoded, its unreadable leads left out
        encoded = encode_recording(rec)
        decoded = decode_recording(encoded.value, encoded.headers)
        quality = assess_quality(
            decoded.signal, decoded.fs, amplitudes_in_mv=amplitudes_in_mv(decoded.signal)
        )
        again = measure(decoded.signal, decoded.fs, usable=usable_leads(quality))
        assert stored.beats is not None
        beats = BeatPositions.from_record(stored.beats)
        assert beats == BeatPositions(float(rec.fs), again.beats.r_peaks.tolist(), list(again.beats.classes))
        assert {c: beats.classes.count(c) for c in "NSVQ"} == stored.measurements["beats"]
        measured += 1
    assert measured >= 9, "the readable real records and the one with three flat leads are measured"
    unreadable = sink.diagnoses[(recordings[-1].recording_id, predictor.version)]
    assert unreadable.verdict is not None and unreadable.verdict["kind"] == "unreadable"


async def test_a_redelivery_onto_a_row_stored_before_the_summary_publishes_the_computed_one(
    predictor: Predictor,
) -> None:
    """A row written before revision 0009 has no verdict: the sink returns it as stored, and the event
    carries the verdict computed from the stored statements, as before."""
    rec = cinc_recordings()[2]
    fresh_sink = InMemoryDiagnosisSink()
    processor, publisher = _processor(predictor, fresh_sink)
    await processor.process(_messages([rec]))
    fresh = fresh_sink.diagnoses[(rec.recording_id, predictor.version)]
    fresh_event = decode_diagnosis(
        publisher.events[DIAGNOSES][0].value, publisher.events[DIAGNOSES][0].headers
    )

    old_sink = InMemoryDiagnosisSink()
    old_row = dataclasses.replace(fresh, verdict=None, critical_findings=None, beats=None)
    await old_sink.write_batch([old_row])
    processor, publisher = _processor(predictor, old_sink)
    await processor.process(_messages([rec]))
    event = decode_diagnosis(publisher.events[DIAGNOSES][0].value, publisher.events[DIAGNOSES][0].headers)
    assert old_sink.diagnoses[(rec.recording_id, predictor.version)].verdict is None, "first write wins"
    assert event.verdict == fresh_event.verdict == fresh.verdict
    assert event.critical_findings == fresh_event.critical_findings
