"""Reads for the overread worklist: diagnosed recordings no physician has read yet.

A recording is on the worklist when it has a diagnosis and no overread at all (a rejection takes it
off too). Its time is when it arrived, as in the history (``storage.history``): the upload
(``recording_owners.created_at``) or, for recordings that came another way, when the worker stored
it. Ranking (critical findings first) is the caller's: it needs ``interpretation.critical``, which
sits above storage. ``unconfirmed_keys`` streams only what the ranking reads, one row at a time,
so the whole worklist is ranked in memory proportional to its length, never to its JSON.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, literal, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import aliased

from storage.auth_models import RecordingOwner
from storage.errors import translate_errors
from storage.history import newest_diagnosis_id
from storage.models import Diagnosis, Recording
from storage.overreads import Overread
from storage.queries import DiagnosisView, diagnosis_view_select, to_diagnosis_view

__all__ = ["WorklistKey", "unconfirmed_keys", "worklist_views"]

_D = aliased(Diagnosis, name="d")
_R = aliased(Recording, name="r")
_O = aliased(RecordingOwner, name="o")


@dataclass(frozen=True)
class WorklistKey:
    """What ranking one unread recording needs: its arrival and the critical findings the worker
    stored, or (rows stored before them: None) the statements and measurements to find them."""

    recording_id: str
    received_at: datetime
    statements: list[dict[str, Any]]
    measurements: dict[str, Any]
    critical_findings: list[dict[str, str]] | None = None


def _newer_diagnosis() -> Any:
    """EXISTS a diagnosis of the same recording newer than ``_D`` (by time, then row): the anti-join
    keeps each recording's newest diagnosis in one pass over the index on ``recording_id``, where a
    correlated "newest id" subquery in the join condition would run once per pair of rows."""
    newer = aliased(Diagnosis, name="n")
    later = or_(
        newer.diagnosed_at > _D.diagnosed_at, and_(newer.diagnosed_at == _D.diagnosed_at, newer.id > _D.id)
    )
    return select(literal(1)).select_from(newer).where(newer.recording_id == _D.recording_id, later).exists()


async def unconfirmed_keys(
    engine: AsyncEngine, *, owner: str | None, measurement_keys: Sequence[str]
) -> AsyncIterator[WorklistKey]:
    """Every diagnosed recording without an overread (only ``owner``'s uploads when given), with the
    newest diagnosis's statements, the ``measurement_keys`` of its measurements and its stored critical
    findings, in no order."""
    read = select(literal(1)).select_from(Overread).where(Overread.recording_id == _R.recording_id).exists()
    received = func.coalesce(_O.created_at, _R.created_at)
    values = [_D.measurements[key].label(f"m_{i}") for i, key in enumerate(measurement_keys)]
    statement = (
        select(_R.recording_id, received.label("received_at"), _D.statements, _D.critical_findings, *values)
        .select_from(_R)
        .join(_D, _D.recording_id == _R.recording_id)
        .outerjoin(_O, _O.recording_id == _R.recording_id)
        .where(not_(read), not_(_newer_diagnosis()))
    )
    if owner is not None:
        statement = statement.where(_O.principal == owner)
    with translate_errors("unconfirmed_keys"):
        async with engine.connect() as conn:
            result = await conn.stream(statement.execution_options(yield_per=500))
            async for row in result:
                measured = {key: getattr(row, f"m_{i}") for i, key in enumerate(measurement_keys)}
                yield WorklistKey(row.recording_id, row.received_at, list(row.statements or []), measured,
                                  row.critical_findings)  # fmt: skip


async def worklist_views(engine: AsyncEngine, recording_ids: Sequence[str]) -> dict[str, DiagnosisView]:
    """The newest diagnosis of each of ``recording_ids`` (one query), by recording id."""
    if not recording_ids:
        return {}
    columns = Diagnosis.__table__.c
    statement = diagnosis_view_select().where(
        columns.recording_id.in_(list(recording_ids)), columns.id == newest_diagnosis_id(columns.recording_id)
    )
    with translate_errors("worklist_views"):
        async with engine.connect() as conn:
            rows = (await conn.execute(statement)).all()
    views = [to_diagnosis_view(row) for row in rows]
    return {view.recording_id: view for view in views}
