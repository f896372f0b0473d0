"""The tables: one row per recording, one row per (recording, model version) diagnosis.

Schema changes go through Alembic migrations (``storage/migrations``); these models are the
target the migrations are checked against, never a ``create_all`` in a service.

All timestamps are timezone-aware UTC on both Postgres (``timestamptz``) and SQLite (ISO text):
naive datetimes are taken as UTC on the way in, and come back with ``tzinfo=UTC``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = ["Base", "Recording", "Diagnosis", "UtcDateTime", "JsonDocument", "NAMING_CONVENTION"]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSON everywhere, JSONB (binary, indexable) on Postgres.
JsonDocument = JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that stores UTC and always returns aware UTC datetimes."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Recording(Base):
    """Metadata of one recording as first received. ``patient_ref_hash`` is an HMAC, never the reference."""

    __tablename__ = "recordings"
    # the history newest first, one patient's recordings (storage/history.py)
    __table_args__ = (Index(None, "created_at", "recording_id"), Index(None, "patient_ref_hash"))

    recording_id: Mapped[str] = mapped_column(Text, primary_key=True)
    device_id: Mapped[str | None] = mapped_column(Text)
    patient_ref_hash: Mapped[str | None] = mapped_column(String(64))
    age: Mapped[int | None] = mapped_column(Integer)
    sex: Mapped[str | None] = mapped_column(Text)
    height_cm: Mapped[float | None] = mapped_column(Float)
    weight_kg: Mapped[float | None] = mapped_column(Float)
    sampling_rate_hz: Mapped[float] = mapped_column(Float)
    n_samples: Mapped[int] = mapped_column(Integer)
    duration_s: Mapped[float] = mapped_column(Float)
    acquired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ingested_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    signal_sha256: Mapped[str] = mapped_column(String(64))
    # signal + demographics: a later recording with this id but another hash is a conflicting duplicate
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    signal: Mapped[bytes | None] = mapped_column(LargeBinary)  # only with STORE_SIGNAL=true
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.current_timestamp())
    source_topic: Mapped[str | None] = mapped_column(Text)
    source_partition: Mapped[int | None] = mapped_column(Integer)
    source_offset: Mapped[int | None] = mapped_column(BigInteger)


class Diagnosis(Base):
    """One model version's diagnosis of one recording, with the timings of the run that made it.

    ``statements`` items carry ``provenance`` (measurement, model, both; rows written before
    revision 0002 lack it and mean "model") and ``evidence``. ``measurements`` and ``quality`` are the
    JSON of ``schemas.EventMeasurements`` / ``EventQuality`` (null when not measured). An unreadable
    recording has ``readable`` false, its ``unreadable_reasons``, and no statements or probabilities.
    ``verdict`` / ``critical_findings`` are the JSON of ``interpretation.summary.ClinicalSummary`` and
    ``beats`` of ``schemas.beat_positions.BeatPositions`` (null when not measured, and in rows
    written before revision 0009).
    """

    __tablename__ = "diagnoses"
    __table_args__ = (
        # also serves every lookup by recording_id (its leading column): no separate index needed
        UniqueConstraint("recording_id", "model_version"),
        Index(None, "diagnosed_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    recording_id: Mapped[str] = mapped_column(Text, ForeignKey("recordings.recording_id", ondelete="CASCADE"))
    model_version: Mapped[str] = mapped_column(Text)
    statements: Mapped[list[dict[str, Any]]] = mapped_column(JsonDocument)  # above threshold
    probabilities: Mapped[dict[str, float]] = mapped_column(JsonDocument)  # every label code
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    diagnosed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    queue_wait_seconds: Mapped[float] = mapped_column(Float)
    preprocess_seconds: Mapped[float] = mapped_column(Float)
    inference_seconds: Mapped[float] = mapped_column(Float)
    latency_from_acquisition_seconds: Mapped[float | None] = mapped_column(Float)
    latency_from_ingest_seconds: Mapped[float | None] = mapped_column(Float)
    readable: Mapped[bool] = mapped_column(Boolean, server_default=true())
    unreadable_reasons: Mapped[list[str] | None] = mapped_column(JsonDocument)
    measurements: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    quality: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.current_timestamp())
    # computed once by the worker (revision 0009; null in older rows: readers compute them as before)
    verdict: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    critical_findings: Mapped[list[dict[str, str]] | None] = mapped_column(JsonDocument)
    beats: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
