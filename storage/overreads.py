"""Physician overreads: an append-only audit trail of confirm / edit / reject per recording.

Every overread is a new row (``overreads``), never an update: version 1, 2, ... per recording, in
the order they were stored, with the reader (principal key and user name), the time (UTC), the
statements after the overread (the shape of ``diagnoses.statements`` items: ``code``,
``description``, ``modifies``, plus ``"source": "physician"``), the free text and the reason. The
current state of a recording is its latest row; the confirmed interpretation is the latest row when
that is a confirm or an edit. ``UNIQUE (recording_id, version)`` makes two readers racing for the
same version fail instead of both winning (``OverreadConflict``).

Publishing each overread as an event (``ecg.overreads.v1``) is recorded in a second append-only
table, ``overread_publications``: a row there says the broker took that overread. The gateway
publishes right after storing and retries the ones without a publication row
(``unpublished_overreads``), so a broker outage delays the export but never loses it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, Text, UniqueConstraint, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from storage.errors import StorageError, translate_errors
from storage.models import Base, JsonDocument, UtcDateTime

__all__ = [
    "OVERREAD_ACTIONS", "Overread", "OverreadPublication", "OverreadRecord", "OverreadConflict", "add_overread",
    "overread_trail", "latest_overread", "confirmed_amends", "unpublished_overreads", "mark_published",
    "confirmed_overreads",
]  # fmt: skip

OVERREAD_ACTIONS = ("confirm", "edit", "reject")
CONFIRMING_ACTIONS = ("confirm", "edit")


class Overread(Base):
    """One overread (see the module docstring); rows are only ever inserted."""

    __tablename__ = "overreads"
    __table_args__ = (UniqueConstraint("recording_id", "version"), Index(None, "at"))

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    # no cascade: a recording with an audit trail cannot be deleted by accident
    recording_id: Mapped[str] = mapped_column(Text, ForeignKey("recordings.recording_id"))
    version: Mapped[int] = mapped_column(Integer)
    model_version: Mapped[str] = mapped_column(Text)  # the diagnosis that was read
    action: Mapped[str] = mapped_column(Text)  # confirm, edit, reject
    statements: Mapped[list[dict[str, Any]]] = mapped_column(JsonDocument)
    free_text: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    reader: Mapped[str] = mapped_column(Text)  # principal key: user:<name>, sso:<name>, token:<id>
    reader_name: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class OverreadPublication(Base):
    """The broker took overread ``overread_id`` at ``published_at``."""

    __tablename__ = "overread_publications"

    overread_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), ForeignKey("overreads.id"), primary_key=True, autoincrement=False
    )
    published_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.current_timestamp())


class OverreadConflict(StorageError):
    """Another overread of the recording was stored first (the caller read an older version)."""

    reason = "overread_conflict"


@dataclass(frozen=True)
class OverreadRecord:
    """One stored overread; ``amends_version`` is the earlier confirmed version it replaces (None for
    the first confirmed version and for rejections)."""

    id: int
    recording_id: str
    version: int
    model_version: str
    action: str
    statements: list[dict[str, Any]]
    free_text: str | None
    reason: str | None
    reader: str
    reader_name: str
    at: datetime
    amends_version: int | None = None

    @property
    def confirms(self) -> bool:
        return self.action in CONFIRMING_ACTIONS


_O = Overread.__table__.c


def _record(row: Any, amends: int | None = None) -> OverreadRecord:
    values = {name: getattr(row, name) for name in OverreadRecord.__dataclass_fields__ if name != "amends_version"}
    return OverreadRecord(**values, amends_version=amends)


def _amends(records: list[OverreadRecord]) -> list[OverreadRecord]:
    """``records`` (one recording, by version) with ``amends_version`` filled in."""
    out: list[OverreadRecord] = []
    confirmed: int | None = None
    for record in records:
        out.append(replace(record, amends_version=confirmed if record.confirms else None))
        if record.confirms:
            confirmed = record.version
    return out


async def add_overread(
    engine: AsyncEngine,
    recording_id: str,
    *,
    model_version: str,
    action: str,
    statements: list[dict[str, Any]],
    reader: str,
    reader_name: str,
    free_text: str | None = None,
    reason: str | None = None,
    base_version: int | None = None,
    at: datetime | None = None,
) -> OverreadRecord:
    """Store the next version of ``recording_id``'s overread and return it.

    ``base_version`` is the version the reader saw (0: none); when given and another overread was
    stored since, nothing is stored and ``OverreadConflict`` is raised, as it is when a concurrent
    writer takes the same version. ``DatabaseUnavailable`` / ``StorageError`` as usual.
    """
    if action not in OVERREAD_ACTIONS:
        raise ValueError(f"action {action!r} is not one of {OVERREAD_ACTIONS}")
    latest = select(func.coalesce(func.max(_O.version), 0)).where(_O.recording_id == recording_id)
    history = select(_O.version, _O.action).where(_O.recording_id == recording_id).order_by(_O.version)
    try:
        with translate_errors("add_overread"):
            async with engine.begin() as conn:
                current = int((await conn.execute(latest)).scalar_one())
                if base_version is not None and base_version != current:
                    raise OverreadConflict(f"version {current} was stored after version {base_version} was read")
                kinds = (await conn.execute(history)).all()
                confirmed = [version for version, kind in kinds if kind in CONFIRMING_ACTIONS]
                values: dict[str, Any] = {
                    "recording_id": recording_id, "version": current + 1, "model_version": model_version,
                    "action": action, "statements": statements, "free_text": free_text, "reason": reason,
                    "reader": reader, "reader_name": reader_name, "at": at or datetime.now(UTC),
                }  # fmt: skip
                new_id = (await conn.execute(insert(Overread).values(**values).returning(_O.id))).scalar_one()
    except OverreadConflict:
        raise
    except StorageError as exc:
        if isinstance(exc.__cause__, IntegrityError):  # a concurrent writer took this version
            raise OverreadConflict("another overread of this recording was stored first") from None
        raise
    amends = confirmed[-1] if confirmed and action in CONFIRMING_ACTIONS else None
    return OverreadRecord(id=int(new_id), **values, amends_version=amends)


async def overread_trail(engine: AsyncEngine, recording_id: str) -> list[OverreadRecord]:
    """Every overread of ``recording_id``, oldest first (the audit trail)."""
    statement = select(Overread.__table__).where(_O.recording_id == recording_id).order_by(_O.version)
    with translate_errors("overread_trail"):
        async with engine.connect() as conn:
            rows = (await conn.execute(statement)).all()
    return _amends([_record(row) for row in rows])


async def latest_overread(engine: AsyncEngine, recording_id: str) -> OverreadRecord | None:
    """The current state: the newest overread of ``recording_id``, or None when unread."""
    trail = await overread_trail(engine, recording_id)
    return trail[-1] if trail else None


async def confirmed_amends(engine: AsyncEngine, recording_id: str, version: int) -> int | None:
    """The confirmed version that ``version`` replaces (None: it is the first confirmed one)."""
    for record in await overread_trail(engine, recording_id):
        if record.version == version:
            return record.amends_version
    return None


async def unpublished_overreads(engine: AsyncEngine, limit: int = 100) -> list[OverreadRecord]:
    """Up to ``limit`` overreads the broker has not taken yet, oldest first, with ``amends_version``."""
    published = select(OverreadPublication.overread_id).where(OverreadPublication.overread_id == _O.id).exists()
    statement = select(Overread.__table__).where(~published).order_by(_O.id).limit(limit)
    with translate_errors("unpublished_overreads"):
        async with engine.connect() as conn:
            rows = (await conn.execute(statement)).all()
    out = []
    for row in rows:
        out.append(_record(row, await confirmed_amends(engine, row.recording_id, row.version)))
    return out


async def mark_published(engine: AsyncEngine, overread_ids: list[int]) -> None:
    """Record that the broker took these overreads (a repeated id is ignored)."""
    if not overread_ids:
        return
    with translate_errors("mark_published"):
        async with engine.begin() as conn:
            done = set(
                (await conn.execute(select(OverreadPublication.overread_id).where(
                    OverreadPublication.overread_id.in_(overread_ids)))).scalars()
            )  # fmt: skip
            fresh = [{"overread_id": i, "published_at": datetime.now(UTC)} for i in sorted(set(overread_ids) - done)]
            if fresh:
                await conn.execute(insert(OverreadPublication), fresh)


async def confirmed_overreads(engine: AsyncEngine, *, since: datetime | None = None) -> list[OverreadRecord]:
    """The current confirmed interpretation of every recording whose latest overread is a confirm or
    an edit (stored at or after ``since``), by recording id. Rejected recordings are left out."""
    newest = select(_O.recording_id, func.max(_O.version).label("version")).group_by(_O.recording_id).subquery()
    statement = (
        select(Overread.__table__)
        .join(newest, (newest.c.recording_id == _O.recording_id) & (newest.c.version == _O.version))
        .where(_O.action.in_(CONFIRMING_ACTIONS))
        .order_by(_O.recording_id)
    )
    if since is not None:
        statement = statement.where(_O.at >= since)
    with translate_errors("confirmed_overreads"):
        async with engine.connect() as conn:
            rows = (await conn.execute(statement)).all()
    return [_record(row) for row in rows]
