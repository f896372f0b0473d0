"""``ecgstream_critical_findings_total{finding}``: counted where the worker stores a diagnosis."""

from __future__ import annotations

from collections import Counter

import pytest

from core.config import DEFAULT_MODEL_PATH
from interpretation.critical import CRITICAL_RULES, critical_findings
from model import Predictor
from schemas import encode_recording
from storage import InMemoryDiagnosisSink
from stream_processor.messages import IncomingMessage
from stream_processor.metrics import WorkerMetrics
from stream_processor.processing import BatchProcessor, ProcessorConfig
from stream_processor.publishing import InMemoryResultPublisher
from tests.stream_processor.records import cinc_recordings

METRIC = "ecgstream_critical_findings_total"


def _count(metrics: WorkerMetrics, finding: str) -> float | None:
    return metrics.registry.get_sample_value(METRIC, {"finding": finding})


def test_every_finding_series_exists_at_zero_and_counts_hand_built_diagnoses() -> None:
    metrics = WorkerMetrics.create()
    assert {f: _count(metrics, f) for f in CRITICAL_RULES} == dict.fromkeys(CRITICAL_RULES, 0.0)
    measured = {"provenance": "measurement"}  # AF + RVR only from the measured rhythm
    metrics.observe_critical([{"code": 50, **measured}, {"code": 346, "modifies": 50, **measured}],
                             {"heart_rate_bpm": 162.0})  # fmt: skip
    metrics.observe_critical([{"code": 88}], {"heart_rate_bpm": 35.0})
    assert _count(metrics, "af_rapid_ventricular_response") == 1.0
    assert _count(metrics, "severe_tachycardia") == 1.0
    assert _count(metrics, "complete_heart_block") == 1.0
    assert _count(metrics, "severe_bradycardia") == 1.0
    assert _count(metrics, "long_qtc") == 0.0


async def test_the_worker_counts_the_findings_of_what_it_stored() -> None:
    """Real CinC records through the real model and analysis; in-memory sink and publisher (the
    Postgres sink and the broker are covered by tests/storage and tests/e2e)."""
    predictor = Predictor.load(DEFAULT_MODEL_PATH, torch_threads=1)
    sink, publisher, metrics = InMemoryDiagnosisSink(), InMemoryResultPublisher(), WorkerMetrics.create()
    config = ProcessorConfig("diagnoses-t", "deadletter-t", max_recording_bytes=600_000, retry_max_seconds=1.0)
    processor = BatchProcessor(predictor, sink, publisher, metrics, config)
    events = [encode_recording(r) for r in cinc_recordings()]
    messages = [IncomingMessage("recordings-t", 0, i, e.key, e.value, list(e.headers)) for i, e in enumerate(events)]
    outcome = await processor.process(messages)
    assert outcome.diagnosed == len(messages)
    expected = Counter(
        f.finding for stored in sink.diagnoses.values() for f in critical_findings(stored.statements, stored.measurements)
    )
    counted = {f: _count(metrics, f) for f in CRITICAL_RULES}
    assert counted == {f: pytest.approx(float(expected.get(f, 0))) for f in CRITICAL_RULES}
