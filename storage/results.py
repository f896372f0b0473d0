"""What the worker hands to a sink: one recording's diagnosis with its metadata and timings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["DiagnosisResult"]


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


@dataclass(frozen=True)
class DiagnosisResult:
    """One recording's diagnosis, built by the worker.

    ``patient_ref`` is the CLEAR reference: the SQL sink stores only its HMAC and never logs it.
    ``statements`` are the asserted statements as ``{"code": int, "description": str,
    "probability": float | None, "provenance": "measurement" | "model" | "both", "evidence": str | None}``;
    ``probabilities`` maps every label code (as text) to its probability. ``measurements`` and
    ``quality`` are the JSON of ``schemas.EventMeasurements`` / ``EventQuality`` (None: not measured);
    an unreadable recording has ``readable=False``, its reasons, and empty statements/probabilities.
    ``verdict`` and ``critical_findings`` are the worker's ``interpretation.summary.ClinicalSummary``
    (computed once, stored, carried in the event) and ``beats`` where it found the beats.
    ``signal`` is the raw samples whose SHA-256 is ``signal_sha256`` (stored only with
    ``STORE_SIGNAL``), never a whole encoded event: that would carry the clear patient reference, and
    the sink refuses to store bytes that contain it. Datetimes should be aware; naive ones are taken
    as UTC. The two end-to-end latencies are derived here (``diagnosed_at`` minus ``acquired_at`` /
    ``ingested_at``), so the metrics and the stored rows use the same numbers.
    """

    recording_id: str
    model_version: str
    statements: list[dict[str, Any]]
    probabilities: dict[str, float]
    device_id: str | None
    patient_ref: str | None = field(repr=False)  # never in reprs, hence never in logs
    age: int | None
    sex: str | None
    height_cm: float | None
    weight_kg: float | None
    sampling_rate_hz: float
    n_samples: int
    acquired_at: datetime | None
    ingested_at: datetime | None
    signal_sha256: str
    signal: bytes | None = field(repr=False)
    received_at: datetime
    diagnosed_at: datetime
    queue_wait_seconds: float
    preprocess_seconds: float
    inference_seconds: float
    source_topic: str | None = None
    source_partition: int | None = None
    source_offset: int | None = None
    # signal + demographics (stream_processor.duplicates); tells collisions from redeliveries
    content_sha256: str | None = None
    readable: bool = True
    unreadable_reasons: list[str] = field(default_factory=list)
    measurements: dict[str, Any] | None = None
    quality: dict[str, Any] | None = None
    # Verdict.as_json() and each CriticalFinding.as_json() (None: not computed), BeatPositions.as_record()
    # (None: not measured)
    verdict: dict[str, Any] | None = None
    critical_findings: list[dict[str, str]] | None = None
    beats: dict[str, Any] | None = None

    @property
    def key(self) -> tuple[str, str]:
        """The identity of a diagnosis: ``(recording_id, model_version)``."""
        return (self.recording_id, self.model_version)

    @property
    def duration_s(self) -> float:
        return self.n_samples / float(self.sampling_rate_hz)

    @property
    def latency_from_acquisition_seconds(self) -> float | None:
        """Seconds from acquisition at the device to the diagnosis, if the device gave a time."""
        if self.acquired_at is None:
            return None
        return (_utc(self.diagnosed_at) - _utc(self.acquired_at)).total_seconds()

    @property
    def latency_from_ingest_seconds(self) -> float | None:
        """Seconds from the producer publishing the recording to the diagnosis."""
        if self.ingested_at is None:
            return None
        return (_utc(self.diagnosed_at) - _utc(self.ingested_at)).total_seconds()
