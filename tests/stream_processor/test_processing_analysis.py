"""The worker's analysis stage through ``BatchProcessor``: real CinC 2021 records, the real
measurement, quality, rule and fusion functions, the real shipped model; in-memory sink and publisher
(the SQL sink and the broker are covered by tests/storage and tests/e2e)."""

from __future__ import annotations

import numpy as np
import pytest

from core.config import DEFAULT_MODEL_PATH
from model import Predictor
from schemas import decode_diagnosis, encode_recording
from storage import InMemoryDiagnosisSink
from stream_processor.analysis import AnalysisOptions, BatchAnalyser
from stream_processor.messages import IncomingMessage
from stream_processor.metrics import WorkerMetrics
from stream_processor.processing import BatchProcessor, ProcessorConfig
from stream_processor.publishing import InMemoryResultPublisher
from tests.stream_processor.records import cinc_recordings, leads_off_recording

DIAGNOSES, DEADLETTER, TOPIC = "diagnoses-test", "deadletter-test", "recordings-test"


@pytest.fixture(scope="module")
def predictor() -> Predictor:
    return Predictor.load(DEFAULT_MODEL_PATH, torch_threads=1)


def _processor(predictor: Predictor, **options: bool) -> tuple[BatchProcessor, InMemoryDiagnosisSink,
                                                               InMemoryResultPublisher, WorkerMetrics]:  # fmt: skip
    sink, publisher, metrics = InMemoryDiagnosisSink(), InMemoryResultPublisher(), WorkerMetrics.create()
    config = ProcessorConfig(DIAGNOSES, DEADLETTER, max_recording_bytes=600_000, retry_max_seconds=1.0, **options)
    return BatchProcessor(predictor, sink, publisher, metrics, config), sink, publisher, metrics


def _messages(recordings) -> list[IncomingMessage]:  # type: ignore[no-untyped-def]
    events = [encode_recording(r) for r in recordings]
    return [IncomingMessage(TOPIC, 0, i, e.key, e.value, list(e.headers)) for i, e in enumerate(events)]


async def test_real_records_carry_measurements_quality_and_provenance(predictor: Predictor) -> None:
    recordings = cinc_recordings()
    processor, sink, publisher, metrics = _processor(predictor)
    outcome = await processor.process(_messages(recordings))

    assert (outcome.diagnosed, outcome.dead_lettered) == (len(recordings), 0)
    events = {e.recording_id: e for e in (decode_diagnosis(x.value, x.headers) for x in publisher.events[DIAGNOSES])}
    readable = [e for e in events.values() if e.readable]
    assert len(readable) >= 8, "clean real records are readable"
    for event in readable:
        m, q = event.measurements, event.quality
        assert m is not None and q is not None
        assert q.verdict in {"good", "acceptable"} and [lead.lead for lead in q.leads][:2] == ["I", "II"]
        assert m.heart_rate_bpm is not None and 30 <= m.heart_rate_bpm <= 200
        assert sum(m.beats.values()) >= 4 and [lead.lead for lead in m.leads][-1] == "V6"
        assert len(event.probabilities) == 59
        assert {s.provenance for s in event.statements} <= {"measurement", "model", "both"}
        stored = sink.diagnoses[(event.recording_id, predictor.version)]
        assert stored.measurements == m.as_record() and stored.quality == q.as_record()
        assert [s["provenance"] for s in stored.statements] == [s.provenance for s in event.statements]
    provenances = {s.provenance for e in readable for s in e.statements}
    assert provenances & {"measurement", "both"}, "fusion uses the measurement rules on real records"
    registry = metrics.registry
    assert registry.get_sample_value("ecgstream_measurement_seconds_count") == 1
    assert registry.get_sample_value("ecgstream_heart_rate_bpm_count") == sum(
        1 for e in readable if e.measurements and e.measurements.heart_rate_bpm is not None
    )
    qtc = [e.measurements.qtc_bazett_ms for e in readable if e.measurements and e.measurements.qtc_bazett_ms]
    assert registry.get_sample_value("ecgstream_qtc_seconds_sum") == pytest.approx(sum(qtc) / 1000.0)
    by_provenance = sum(
        registry.get_sample_value("ecgstream_statements_total", {"provenance": p}) or 0.0
        for p in ("measurement", "model", "both")
    )
    assert by_provenance == sum(len(e.statements) for e in events.values())


async def test_a_recording_with_leads_off_is_unreadable_stored_and_counted(predictor: Predictor) -> None:
    base = cinc_recordings()[0]
    bad = leads_off_recording(base)
    processor, sink, publisher, metrics = _processor(predictor)
    outcome = await processor.process(_messages([base, bad]))

    assert (outcome.diagnosed, outcome.dead_lettered) == (2, 0), "unreadable is a result, not a dead letter"
    events = {e.recording_id: e for e in (decode_diagnosis(x.value, x.headers) for x in publisher.events[DIAGNOSES])}
    event = events[bad.recording_id]
    assert event.readable is False
    assert event.statements == [] and event.probabilities == {}, "never classified"
    assert event.unreadable_reasons and event.quality is not None and event.quality.verdict == "unreadable"
    assert event.measurements is None
    off = [lead.lead for lead in event.quality.leads if lead.verdict == "unreadable"]
    assert set(off) >= {"V1", "V2", "V3", "V4"}
    stored = sink.diagnoses[(bad.recording_id, predictor.version)]
    assert stored.readable is False and stored.unreadable_reasons == event.unreadable_reasons
    assert stored.statements == [] and stored.probabilities == {}
    primary = event.unreadable_reasons[0]
    assert metrics.registry.get_sample_value("ecgstream_unreadable_total", {"reason": primary}) == 1
    counted = [m for m in metrics.registry.collect() if m.name == "ecgstream_unreadable"][0]
    assert sum(s.value for s in counted.samples if s.name.endswith("_total")) == 1, "once per recording"
    assert events[base.recording_id].readable is True, "the clean original in the same batch is still diagnosed"


async def test_fusion_off_states_the_model_alone_but_keeps_quality_and_measurements(predictor: Predictor) -> None:
    recordings = cinc_recordings()[:4]
    fused = BatchAnalyser(predictor).run(recordings)
    plain = BatchAnalyser(predictor, AnalysisOptions(fusion=False)).run(recordings)
    for f, p in zip(fused.outcomes, plain.outcomes, strict=True):
        assert all(s.provenance == "model" and s.probability is not None for s in p.statements)
        row = np.array([[p.probabilities[str(label.code)] for label in predictor.labels]])
        model_codes = {label.code for label, _ in predictor.statements(row)[0]}
        assert {s.code for s in p.statements} == model_codes
        assert p.measurements == f.measurements and p.quality == f.quality
    assert plain.measured and plain.measurement_seconds > 0


async def test_measurements_off_is_the_model_alone_on_every_recording(predictor: Predictor) -> None:
    base = cinc_recordings()[0]
    bad = leads_off_recording(base)
    processor, _sink, publisher, metrics = _processor(predictor, measure=False)
    await processor.process(_messages([base, bad]))
    events = [decode_diagnosis(x.value, x.headers) for x in publisher.events[DIAGNOSES]]
    assert all(e.readable and e.measurements is None and e.quality is None for e in events)
    assert all(len(e.probabilities) == 59 for e in events)
    assert all(s.provenance == "model" for e in events for s in e.statements)
    assert metrics.registry.get_sample_value("ecgstream_measurement_seconds_count") in (None, 0.0)



async def test_a_recording_that_crashes_the_analysis_is_isolated(
    predictor: Predictor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch call fails, the worker analyses one by one and dead-letters only the culprit.

    The failure is injected (a wrapper around the real ``measure_batch``): no real recording is known
    to crash the measurement code, and the fallback path must still be proven.
    """
    import dataclasses

    from schemas import decode_dead_letter
    from stream_processor import assessment

    real = assessment.measure_batch
    marker_mv = 9.0

    def crashing(signals, fs_list, usable=None):  # type: ignore[no-untyped-def]
        if any(abs(float(s[0, 0]) - marker_mv) < 0.01 for s in signals):
            raise RuntimeError("simulated measurement library failure")
        return real(signals, fs_list, usable=usable)

    monkeypatch.setattr(assessment, "measure_batch", crashing)  # the processor assesses in its thread
    clean = cinc_recordings()[:2]
    signal = clean[0].signal.copy()
    signal[0, 0] = marker_mv
    culprit = dataclasses.replace(clean[0], signal=signal, recording_id="culprit")
    processor, sink, publisher, metrics = _processor(predictor)
    outcome = await processor.process(_messages([clean[0], culprit, clean[1]]))

    assert (outcome.diagnosed, outcome.dead_lettered) == (2, 1)
    letter = decode_dead_letter(publisher.events[DEADLETTER][0].value, publisher.events[DEADLETTER][0].headers)
    assert letter.reason == "inference_error" and "simulated" in letter.message and letter.source_offset == 1
    events = [decode_diagnosis(x.value, x.headers) for x in publisher.events[DIAGNOSES]]
    assert sorted(e.recording_id for e in events) == sorted(r.recording_id for r in clean)
    assert all(e.measurements is not None and e.readable for e in events)
    assert metrics.registry.get_sample_value("ecgstream_measurement_seconds_count") == 1
    assert set(sink.counts_by_recording()) == {r.recording_id for r in clean}
    # each survivor keeps its own outcome (the one-by-one outcomes stay aligned with their recordings)
    by_id = {e.recording_id: e for e in events}
    analyser = BatchAnalyser(predictor, AnalysisOptions())
    for recording in clean:
        (alone,) = analyser.run([recording]).outcomes
        assert by_id[recording.recording_id].measurements == alone.measurements, recording.recording_id
    assert by_id[clean[0].recording_id].measurements != by_id[clean[1].recording_id].measurements
