"""events: the diagnosis event of each stored diagnosis (built from the row, so a redelivery repeats it)."""

from __future__ import annotations

from interpretation.summary import stored_summary
from schemas import DiagnosisEvent, EventMeasurements, EventQuality, Statement
from storage import DiagnosisResult
from stream_processor.steps.clock import seconds_between

__all__ = ["diagnosis_event"]


def diagnosis_event(result: DiagnosisResult) -> DiagnosisEvent:
    """The event of one stored diagnosis."""
    return DiagnosisEvent(
        recording_id=result.recording_id,
        model_version=result.model_version,
        statements=[Statement(**s) for s in result.statements],
        probabilities=dict(result.probabilities),
        device_id=result.device_id,
        acquired_at=result.acquired_at,
        ingested_at=result.ingested_at,
        diagnosed_at=result.diagnosed_at,
        latency_seconds=seconds_between(result.ingested_at, result.diagnosed_at),
        readable=result.readable,
        unreadable_reasons=list(result.unreadable_reasons),
        measurements=None if result.measurements is None else EventMeasurements.from_record(result.measurements),
        quality=None if result.quality is None else EventQuality.from_record(result.quality),
        **stored_summary(result).as_json(),  # as stored (the first write's on a redelivery)
    )  # fmt: skip
