"""The diagnoses event: one ``DiagnosisEvent`` per recording, keyed by recording id."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from schemas.codec import EncodedEvent, decode_event, encode_event
from schemas.recording_event import to_utc

__all__ = ["DIAGNOSIS_EVENT_TYPE", "Statement", "DiagnosisEvent", "encode_diagnosis", "decode_diagnosis"]

DIAGNOSIS_EVENT_TYPE = "org.ecgstream.diagnosis"


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Statement:
    """One AHA statement the model asserts."""

    code: int
    description: str
    probability: float


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


def encode_diagnosis(event: DiagnosisEvent, *, source: str = "ecgstream-worker") -> EncodedEvent:
    """The Kafka message of a diagnosis; key = recording id."""
    diagnosed_at = to_utc(event.diagnosed_at) or _now()
    record = {
        "recording_id": event.recording_id,
        "model_version": event.model_version,
        "statements": [
            {"code": int(s.code), "description": s.description, "probability": float(s.probability)}
            for s in event.statements
        ],
        "probabilities": {str(code): float(p) for code, p in event.probabilities.items()},
        "device_id": event.device_id,
        "acquired_at": to_utc(event.acquired_at),
        "ingested_at": to_utc(event.ingested_at),
        "diagnosed_at": diagnosed_at,
        "latency_seconds": None if event.latency_seconds is None else float(event.latency_seconds),
        "source_partition": event.source_partition,
        "source_offset": event.source_offset,
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
        statements=[Statement(s["code"], s["description"], s["probability"]) for s in record["statements"]],
        probabilities=dict(record["probabilities"]),
        device_id=record["device_id"],
        acquired_at=to_utc(record["acquired_at"]),
        ingested_at=to_utc(record["ingested_at"]),
        diagnosed_at=to_utc(record["diagnosed_at"]) or _now(),
        latency_seconds=record["latency_seconds"],
        source_partition=record["source_partition"],
        source_offset=record["source_offset"],
    )
