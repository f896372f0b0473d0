"""Reads for the web gateway and the tests. Connection failures raise ``DatabaseUnavailable``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.errors import translate_errors
from storage.models import Diagnosis, Recording

__all__ = [
    "DiagnosisView",
    "diagnosis_view_select",
    "to_diagnosis_view",
    "get_diagnosis",
    "recent_diagnoses",
    "count_diagnoses",
    "diagnosis_counts_by_recording",
]


@dataclass(frozen=True)
class DiagnosisView:
    """A stored diagnosis with its recording's metadata (the patient reference only as its hash)."""

    recording_id: str
    model_version: str
    statements: list[dict[str, Any]]
    probabilities: dict[str, float]
    received_at: datetime
    diagnosed_at: datetime
    queue_wait_seconds: float
    preprocess_seconds: float
    inference_seconds: float
    latency_from_acquisition_seconds: float | None
    latency_from_ingest_seconds: float | None
    device_id: str | None
    patient_ref_hash: str | None
    age: int | None
    sex: str | None
    height_cm: float | None
    weight_kg: float | None
    sampling_rate_hz: float
    n_samples: int
    duration_s: float
    acquired_at: datetime | None
    ingested_at: datetime | None
    signal_sha256: str
    has_signal: bool
    readable: bool = True
    unreadable_reasons: list[str] | None = None
    measurements: dict[str, Any] | None = None
    quality: dict[str, Any] | None = None
    # stored by the worker (revision 0009); None in older rows: see interpretation.summary.stored_summary
    verdict: dict[str, Any] | None = None
    critical_findings: list[dict[str, str]] | None = None
    beats: dict[str, Any] | None = None  # schemas.beat_positions.BeatPositions.as_record()


_D = Diagnosis.__table__.c
_R = Recording.__table__.c
_VIEW_COLUMNS = (
    _D.recording_id, _D.model_version, _D.statements, _D.probabilities, _D.received_at, _D.diagnosed_at,
    _D.queue_wait_seconds, _D.preprocess_seconds, _D.inference_seconds,
    _D.latency_from_acquisition_seconds, _D.latency_from_ingest_seconds,
    _R.device_id, _R.patient_ref_hash, _R.age, _R.sex, _R.height_cm, _R.weight_kg, _R.sampling_rate_hz,
    _R.n_samples, _R.duration_s, _R.acquired_at, _R.ingested_at, _R.signal_sha256,
    _R.signal.is_not(None).label("has_signal"),
    _D.readable, _D.unreadable_reasons, _D.measurements, _D.quality, _D.verdict, _D.critical_findings, _D.beats,
)  # fmt: skip


def diagnosis_view_select() -> Any:
    """SELECT of ``DiagnosisView`` columns: diagnoses joined to their recordings."""
    return select(*_VIEW_COLUMNS).join_from(Diagnosis, Recording, _D.recording_id == _R.recording_id)


def to_diagnosis_view(row: Row[Any]) -> DiagnosisView:
    values = row._asdict()
    values["has_signal"] = bool(values["has_signal"])
    values["readable"] = bool(values["readable"])
    return DiagnosisView(**values)


async def get_diagnosis(engine: AsyncEngine, recording_id: str) -> DiagnosisView | None:
    """The newest diagnosis of a recording (latest ``diagnosed_at``, then latest row), or None.

    "Newest" is by time, not by comparing version strings, which have no reliable order.
    """
    statement = (
        diagnosis_view_select()
        .where(_D.recording_id == recording_id)
        .order_by(_D.diagnosed_at.desc(), _D.id.desc())
    ).limit(1)
    with translate_errors("get_diagnosis"):
        async with engine.connect() as conn:
            row = (await conn.execute(statement)).first()
    return None if row is None else to_diagnosis_view(row)


async def recent_diagnoses(engine: AsyncEngine, limit: int = 50) -> list[DiagnosisView]:
    """The ``limit`` most recently diagnosed results, newest first (uses the diagnosed_at index)."""
    statement = diagnosis_view_select().order_by(_D.diagnosed_at.desc(), _D.id.desc()).limit(limit)
    with translate_errors("recent_diagnoses"):
        async with engine.connect() as conn:
            rows = (await conn.execute(statement)).all()
    return [to_diagnosis_view(row) for row in rows]


async def count_diagnoses(engine: AsyncEngine) -> int:
    """Number of diagnosis rows."""
    with translate_errors("count_diagnoses"):
        async with engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(Diagnosis))).scalar_one())


async def diagnosis_counts_by_recording(engine: AsyncEngine) -> dict[str, int]:
    """Diagnosis rows per recording id (exactly-once checks: every value should be 1 per model)."""
    statement = select(_D.recording_id, func.count()).group_by(_D.recording_id)
    with translate_errors("diagnosis_counts_by_recording"):
        async with engine.connect() as conn:
            rows = (await conn.execute(statement)).all()
    return {recording_id: int(count) for recording_id, count in rows}
