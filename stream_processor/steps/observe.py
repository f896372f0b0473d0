"""The metrics of a stored batch: stage times, analysis distributions, labels, criticals, latencies."""

from __future__ import annotations

from collections.abc import Sequence

from schemas import DiagnosisEvent
from storage import DiagnosisResult
from stream_processor.analysis import AnalysedBatch
from stream_processor.metrics import WorkerMetrics
from stream_processor.steps.clock import seconds_between, utcnow

__all__ = ["observe_stored"]


def observe_stored(
    metrics: WorkerMetrics,
    results: Sequence[DiagnosisResult],
    events: Sequence[DiagnosisEvent],
    predictions: AnalysedBatch,
) -> None:
    """Record a batch whose ``results`` were stored and ``events`` published (nothing when none were)."""
    if not results:
        return
    done = utcnow()
    metrics.preprocess.observe(predictions.preprocess_seconds)
    metrics.inference.observe(predictions.inference_seconds)
    metrics.observe_analysis(predictions)
    metrics.records_processed.inc(len(results))
    metrics.diagnoses_published.inc(len(events))
    for result in results:
        for statement in result.statements:
            metrics.label_positives.labels(code=str(statement["code"])).inc()
        metrics.observe_critical(result.statements, result.measurements)
        from_ingest = seconds_between(result.ingested_at, done)
        if from_ingest is not None:
            metrics.latency_from_ingest.observe(max(0.0, from_ingest))
        from_acquisition = seconds_between(result.acquired_at, done)
        if from_acquisition is not None:
            metrics.latency_from_acquisition.observe(max(0.0, from_acquisition))
