"""The diagnoses event: one ``DiagnosisEvent`` per recording, keyed by recording id.

Version 2 added per-statement provenance and evidence, the measurements, the signal quality and
readability; version 3 (written today) adds each statement's certainty (definite / possible), the
ventricular and atrial rates, the measured rhythm, the leads left out, and the headline verdict and
critical findings the worker computed (downstream systems read them here instead of recomputing).
Older bytes decode with the new fields at their defaults (statements definite, no verdict). An unreadable recording's event has no statements and no
probabilities, only ``readable=False`` and the ``unreadable_reasons``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from schemas.codec import EncodedEvent, decode_event, encode_event
from schemas.diagnosis_findings import EventMeasurements, EventQuality, finite_or_none
from schemas.recording_event import to_utc

__all__ = ["DIAGNOSIS_EVENT_TYPE", "Certainty", "Provenance", "Statement", "DiagnosisEvent", "encode_diagnosis", "decode_diagnosis"]

DIAGNOSIS_EVENT_TYPE = "org.ecgstream.diagnosis"


def _now() -> datetime:
    return datetime.now(UTC)


Provenance = Literal["measurement", "model", "both", "physician"]  # physician: a confirmed overread (exports)
Certainty = Literal["definite", "possible"]


@dataclass(frozen=True)
class Statement:
    """One AHA statement; ``provenance`` says whether measurement rules, the model or both decided it.

    ``probability`` is the model's; None when measurements decided and the model gives none (NaN on
    the wire). ``evidence`` is the measurement criterion that fired, if any; ``modifies`` is, for a
    modifier such as 310 (frequent), the primary statement it qualifies.
    """

    code: int
    description: str
    probability: float | None
    provenance: Provenance = "model"
    evidence: str | None = None
    modifies: int | None = None  # a modifier's primary statement (SPH grammar ``30+310``)
    certainty: Certainty = "definite"  # "possible": say "possible" / "consider" (v3)


@dataclass(frozen=True)
class DiagnosisEvent:
    """The diagnosis of one recording. ``probabilities``: AHA code as text -> probability, all labels."""

    recording_id: str
    model_version: str
    statements: list[Statement]
    probabilities: dict[str, float]
    device_id: str | None = None
    acquired_at: datetime | None = None
    ingested_at: datetime | None = None
    diagnosed_at: datetime = field(default_factory=_now)
    latency_seconds: float | None = None
    source_partition: int | None = None
    source_offset: int | None = None
    readable: bool = True
    unreadable_reasons: list[str] = field(default_factory=list)
    measurements: EventMeasurements | None = None
    quality: EventQuality | None = None
    verdict: dict[str, Any] | None = None  # interpretation.verdict.Verdict.as_json() (v3)
    critical_findings: list[dict[str, str]] = field(default_factory=list)  # CriticalFinding.as_json() (v3)


def _statement_record(s: Statement) -> dict[str, object]:
    probability = finite_or_none(s.probability)
    return {
        "code": int(s.code),
        "description": s.description,
        "probability": float("nan") if probability is None else probability,
        "provenance": s.provenance,
        "evidence": s.evidence,
        "modifies": s.modifies,
        "certainty": s.certainty,
    }


def encode_diagnosis(event: DiagnosisEvent, *, source: str = "ecgstream-worker") -> EncodedEvent:
    """The Kafka message of a diagnosis; key = recording id."""
    diagnosed_at = to_utc(event.diagnosed_at) or _now()
    record = {
        "recording_id": event.recording_id,
        "model_version": event.model_version,
        "statements": [_statement_record(s) for s in event.statements],
        "probabilities": {str(code): float(p) for code, p in event.probabilities.items()},
        "device_id": event.device_id,
        "acquired_at": to_utc(event.acquired_at),
        "ingested_at": to_utc(event.ingested_at),
        "diagnosed_at": diagnosed_at,
        "latency_seconds": None if event.latency_seconds is None else float(event.latency_seconds),
        "source_partition": event.source_partition,
        "source_offset": event.source_offset,
        "readable": bool(event.readable),
        "unreadable_reasons": list(event.unreadable_reasons),
        "measurements": None if event.measurements is None else event.measurements.as_record(),
        "quality": None if event.quality is None else event.quality.as_record(),
        "verdict": None if event.verdict is None else _verdict_record(event.verdict),
        "critical_findings": [
            {key: str(finding[key]) for key in ("finding", "title", "rule", "evidence")}
            for finding in event.critical_findings
        ],
    }
    return encode_event(
        DIAGNOSIS_EVENT_TYPE, record, key=event.recording_id.encode("utf-8"), source=source, time=diagnosed_at
    )


def decode_diagnosis(value: bytes, headers: Sequence[tuple[str, bytes]]) -> DiagnosisEvent:
    """The ``DiagnosisEvent`` of a diagnoses event; SchemaError / UnknownSchemaVersion when undecodable."""
    record = decode_event(value, headers, DIAGNOSIS_EVENT_TYPE)
    return DiagnosisEvent(
        recording_id=record["recording_id"],
        model_version=record["model_version"],
        statements=[
            Statement(
                s["code"], s["description"], finite_or_none(s["probability"]), s["provenance"], s["evidence"],
                s["modifies"], s["certainty"],
            )
            for s in record["statements"]
        ],
        probabilities=dict(record["probabilities"]),
        device_id=record["device_id"],
        acquired_at=to_utc(record["acquired_at"]),
        ingested_at=to_utc(record["ingested_at"]),
        diagnosed_at=to_utc(record["diagnosed_at"]) or _now(),
        latency_seconds=record["latency_seconds"],
        source_partition=record["source_partition"],
        source_offset=record["source_offset"],
        readable=record["readable"],
        unreadable_reasons=list(record["unreadable_reasons"]),
        measurements=None if record["measurements"] is None else EventMeasurements.from_record(record["measurements"]),
        quality=None if record["quality"] is None else EventQuality.from_record(record["quality"]),
        verdict=None if record["verdict"] is None else dict(record["verdict"]),
        critical_findings=[dict(finding) for finding in record["critical_findings"]],
    )


def _verdict_record(verdict: Mapping[str, Any]) -> dict[str, Any]:
    code = verdict.get("most_important_code")
    return {
        "kind": str(verdict["kind"]),
        "text": str(verdict["text"]),
        "abnormal_count": int(verdict.get("abnormal_count") or 0),
        "most_important_code": None if code is None else int(code),
    }
