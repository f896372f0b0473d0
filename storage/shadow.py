"""The shadow model's results (``SHADOW_MODEL_PATH``), kept apart from the authoritative diagnoses.

Table ``shadow_diagnoses`` (migration ``0007_shadow``): one row per (recording, shadow model version),
beside the authoritative ``diagnoses`` row it was computed with (``authoritative_version``). Nothing
that serves results reads it (gateway, exports, events): only ``ecgstream replay --shadow`` and the
operator. The measurements and quality are those of the authoritative row (the shadow reuses them),
so they are not stored twice.

Conflict policy as the diagnosis sink: first write wins (``ON CONFLICT DO NOTHING``), so a
redelivered batch changes nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    Text,
    UniqueConstraint,
    and_,
    func,
    select,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from storage.errors import translate_errors
from storage.models import Base, Diagnosis, JsonDocument, Recording, UtcDateTime
from storage.sink import _json_safe

__all__ = [
    "ShadowDiagnosis", "ShadowResult", "ShadowStore", "SqlShadowStore", "InMemoryShadowStore", "ShadowPair",
    "iter_shadow_pairs",
]  # fmt: skip


class ShadowDiagnosis(Base):
    """One shadow model version's result for one recording (see the module docstring)."""

    __tablename__ = "shadow_diagnoses"
    __table_args__ = (UniqueConstraint("recording_id", "model_version"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    recording_id: Mapped[str] = mapped_column(Text, ForeignKey("recordings.recording_id", ondelete="CASCADE"))
    model_version: Mapped[str] = mapped_column(Text)
    authoritative_version: Mapped[str] = mapped_column(Text)
    statements: Mapped[list[dict[str, Any]]] = mapped_column(JsonDocument)
    probabilities: Mapped[dict[str, float]] = mapped_column(JsonDocument)
    readable: Mapped[bool] = mapped_column(Boolean, server_default=true())
    unreadable_reasons: Mapped[list[str] | None] = mapped_column(JsonDocument)
    diagnosed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    inference_seconds: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.current_timestamp())


@dataclass(frozen=True)
class ShadowResult:
    """What the worker records of one shadow outcome (statements as ``DiagnosisResult.statements``)."""

    recording_id: str
    model_version: str
    authoritative_version: str
    statements: list[dict[str, Any]]
    probabilities: dict[str, float]
    readable: bool
    unreadable_reasons: list[str]
    diagnosed_at: datetime
    inference_seconds: float

    def row(self) -> dict[str, Any]:
        return {
            "recording_id": self.recording_id, "model_version": self.model_version,
            "authoritative_version": self.authoritative_version, "statements": _json_safe(self.statements),
            "probabilities": _json_safe({str(k): v for k, v in self.probabilities.items()}),
            "readable": bool(self.readable), "unreadable_reasons": list(self.unreadable_reasons) or None,
            "diagnosed_at": self.diagnosed_at, "inference_seconds": float(self.inference_seconds),
        }  # fmt: skip


@runtime_checkable
class ShadowStore(Protocol):
    """Keeps shadow results; ``write_batch`` is idempotent (first write wins)."""

    async def write_batch(self, results: Sequence[ShadowResult]) -> None: ...


class SqlShadowStore:
    """``shadow_diagnoses`` on Postgres or SQLite; raises ``DatabaseUnavailable`` / ``StorageError``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        self._statement = insert(ShadowDiagnosis).on_conflict_do_nothing(
            index_elements=["recording_id", "model_version"]
        )

    async def write_batch(self, results: Sequence[ShadowResult]) -> None:
        if not results:
            return
        with translate_errors("write_shadow_batch"):
            async with self.engine.begin() as conn:
                await conn.execute(self._statement, [r.row() for r in sorted(results, key=lambda r: r.recording_id)])


class InMemoryShadowStore:
    """The same interface in a dict keyed by ``(recording_id, model_version)``, for tests."""

    def __init__(self) -> None:
        self.results: dict[tuple[str, str], ShadowResult] = {}

    async def write_batch(self, results: Sequence[ShadowResult]) -> None:
        for r in results:
            self.results.setdefault((r.recording_id, r.model_version), r)


@dataclass(frozen=True)
class ShadowPair:
    """A shadow result with the authoritative diagnosis it was computed beside."""

    recording_id: str
    shadow_version: str
    authoritative_version: str
    shadow_statements: list[dict[str, Any]]
    shadow_readable: bool
    shadow_unreadable_reasons: list[str]
    statements: list[dict[str, Any]]  # the authoritative diagnosis from here on
    readable: bool
    unreadable_reasons: list[str]
    measurements: dict[str, Any] | None
    quality: dict[str, Any] | None


async def iter_shadow_pairs(
    engine: AsyncEngine,
    *,
    shadow_version: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
    page_size: int = 256,
) -> AsyncIterator[list[ShadowPair]]:
    """Pages of shadow results joined to their authoritative diagnoses, in ``shadow_diagnoses.id``
    order; ``since <= recordings.created_at < until``. Read-only."""
    s, d, r = ShadowDiagnosis.__table__.c, Diagnosis.__table__.c, Recording.__table__.c
    after, left = -1, limit
    while left is None or left > 0:
        size = page_size if left is None else min(page_size, left)
        statement = (
            select(s.id, s.recording_id, s.model_version, s.authoritative_version, s.statements, s.readable,
                   s.unreadable_reasons, d.statements.label("d_statements"), d.readable.label("d_readable"),
                   d.unreadable_reasons.label("d_reasons"), d.measurements, d.quality)  # fmt: skip
            .join(Diagnosis, and_(d.recording_id == s.recording_id, d.model_version == s.authoritative_version))
            .join(Recording, r.recording_id == s.recording_id)
            .where(s.id > after)
        )
        if shadow_version is not None:
            statement = statement.where(s.model_version == shadow_version)
        if since is not None:
            statement = statement.where(r.created_at >= since)
        if until is not None:
            statement = statement.where(r.created_at < until)
        with translate_errors("iter_shadow_pairs"):
            async with engine.connect() as conn:
                rows = (await conn.execute(statement.order_by(s.id).limit(size))).all()
        if not rows:
            return
        yield [
            ShadowPair(row.recording_id, row.model_version, row.authoritative_version, list(row.statements or []),
                       bool(row.readable), list(row.unreadable_reasons or []), list(row.d_statements or []),
                       bool(row.d_readable), list(row.d_reasons or []), row.measurements, row.quality)
            for row in rows
        ]  # fmt: skip
        after = rows[-1].id
        left = None if left is None else left - len(rows)
        if len(rows) < size:
            return
