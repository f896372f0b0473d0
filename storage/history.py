"""Reads for the history list, patient history and the serial comparison.

A history row is a recording uploaded through the gateway (``recording_owners``, diagnosed or still
pending) or one diagnosed by the worker that arrived another way (``recordings`` without an owner;
listed only when no ``owner`` restricts the list). Its time, ``received_at``, is when it arrived:
the upload (``recording_owners.created_at``) or, for the others, when the worker stored it
(``recordings.created_at``). Newest first; both halves are read in the order of an index
(migration ``0006_history``: arrival time, then recording id), each stops after the rows the page
can need, and a page is at most ``MAX_PAGE_SIZE`` rows.

The status comes from the newest diagnosis, as ``interpretation.verdict.headline_verdict`` decides
the headline: ``pending`` (no diagnosis yet), ``unreadable`` (not readable, or a quality verdict of
unreadable), ``abnormal`` (a statement other than 1, Normal ECG, and below the modifier codes),
``normal`` (statement 1 alone) and ``no_statement``. The statement filter matches any asserted code.
Patient references never reach this module in clear: callers pass the keyed hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Select,
    and_,
    false,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import aliased

from storage.auth_models import RecordingOwner
from storage.errors import translate_errors
from storage.models import Diagnosis, Recording
from storage.queries import DiagnosisView, diagnosis_view_select, to_diagnosis_view

__all__ = [
    "HISTORY_STATUSES", "MAX_PAGE_SIZE", "MAX_PAGE", "HistoryFilter", "HistoryRow", "HistoryPage",
    "history_statement", "list_history", "previous_diagnosis", "newest_diagnosis_id",
]  # fmt: skip

HISTORY_STATUSES = ("pending", "normal", "abnormal", "unreadable", "no_statement")
MAX_PAGE_SIZE = 100
MAX_PAGE = 10_000  # offsets stay bounded
_NORMAL, _MODIFIER_FLOOR = 1, 300  # as interpretation.verdict

_D = aliased(Diagnosis, name="d")
_R = aliased(Recording, name="r")
_O = aliased(RecordingOwner, name="o")


@dataclass(frozen=True)
class HistoryFilter:
    """What to list: ``owner`` (a principal key; None = every recording), a status of
    ``HISTORY_STATUSES``, an asserted statement code, a ``since <= received_at < until`` range and
    a patient's keyed hash."""

    owner: str | None = None
    status: str | None = None
    statement: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    patient_ref_hash: str | None = None


@dataclass(frozen=True)
class HistoryRow:
    """One recording in the list; the diagnosis fields are None while it is pending."""

    recording_id: str
    received_at: datetime
    acquired_at: datetime | None
    model_version: str | None
    diagnosed_at: datetime | None
    statements: list[dict[str, Any]] | None
    readable: bool | None
    unreadable_reasons: list[str] | None
    quality: dict[str, Any] | None
    verdict: dict[str, Any] | None = None  # as stored by the worker; None while pending and in older rows

    @property
    def pending(self) -> bool:
        return self.model_version is None


@dataclass(frozen=True)
class HistoryPage:
    rows: list[HistoryRow]
    page: int
    page_size: int
    has_more: bool


def _codes_exist(dialect: str, condition: str, *, negate: bool = False) -> ColumnElement[bool]:
    """(NOT) EXISTS a statement of the newest diagnosis ``d`` whose code meets ``condition``
    (``{code}`` stands for the code). ``condition`` is built here from validated integers only."""
    if dialect == "postgresql":
        code = "(s.value ->> 'code')::int"
        source = "jsonb_array_elements(d.statements) AS s"
    else:
        code = "CAST(json_extract(s.value, '$.code') AS INTEGER)"
        source = "json_each(d.statements) AS s"
    exists = f"EXISTS (SELECT 1 FROM {source} WHERE {condition.format(code=code)})"
    return literal_column(f"(NOT {exists})" if negate else f"({exists})", Boolean)


def _quality_unreadable(dialect: str) -> ColumnElement[bool]:
    verdict = "d.quality ->> 'verdict'" if dialect == "postgresql" else "json_extract(d.quality, '$.verdict')"
    return literal_column(f"(COALESCE({verdict} = 'unreadable', false))", Boolean)


def _status_condition(dialect: str, status: str) -> ColumnElement[bool]:
    if status == "pending":
        return _D.id.is_(None)
    unreadable = or_(_D.readable.is_(false()), _quality_unreadable(dialect))
    if status == "unreadable":
        return and_(_D.id.is_not(None), unreadable)
    readable = and_(_D.id.is_not(None), _D.readable.is_not(false()), not_(_quality_unreadable(dialect)))
    abnormal = f"{{code}} <> {_NORMAL} AND {{code}} < {_MODIFIER_FLOOR}"
    if status == "abnormal":
        return and_(readable, _codes_exist(dialect, abnormal))
    if status == "normal":
        return and_(readable, _codes_exist(dialect, abnormal, negate=True),
                    _codes_exist(dialect, f"{{code}} = {_NORMAL}"))  # fmt: skip
    if status == "no_statement":
        return and_(readable, _codes_exist(dialect, f"{{code}} < {_MODIFIER_FLOOR}", negate=True))
    raise ValueError(f"unknown status {status!r}; one of {', '.join(HISTORY_STATUSES)}")


def newest_diagnosis_id(recording_id: Any) -> Any:
    """Scalar subquery: the id of the newest diagnosis of ``recording_id`` (latest time, then row)."""
    newest = aliased(Diagnosis)
    return (
        select(newest.id)
        .where(newest.recording_id == recording_id)
        .order_by(newest.diagnosed_at.desc(), newest.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _columns(received_at: Any, recording_id: Any) -> tuple[Any, ...]:
    return (
        recording_id.label("recording_id"), received_at.label("received_at"), _R.acquired_at.label("acquired_at"),
        _D.model_version.label("model_version"), _D.diagnosed_at.label("diagnosed_at"),
        _D.statements.label("statements"), _D.readable.label("readable"),
        _D.unreadable_reasons.label("unreadable_reasons"), _D.quality.label("quality"), _D.verdict.label("verdict"),
    )  # fmt: skip


def _filtered(query: Select[Any], received_at: Any, flt: HistoryFilter, dialect: str) -> Select[Any]:
    if flt.status is not None:
        query = query.where(_status_condition(dialect, flt.status))
    if flt.statement is not None:
        query = query.where(_D.id.is_not(None), _codes_exist(dialect, f"{{code}} = {int(flt.statement)}"))
    if flt.since is not None:
        query = query.where(received_at >= flt.since)
    if flt.until is not None:
        query = query.where(received_at < flt.until)
    if flt.patient_ref_hash is not None:
        query = query.where(_R.patient_ref_hash == flt.patient_ref_hash)
    return query


def _uploaded(flt: HistoryFilter, dialect: str) -> Select[Any]:
    """Recordings uploaded through the gateway, diagnosed or pending."""
    query = (
        select(*_columns(_O.created_at, _O.recording_id))
        .select_from(_O)
        .outerjoin(_R, _R.recording_id == _O.recording_id)
        .outerjoin(_D, _D.id == newest_diagnosis_id(_O.recording_id))
    )
    if flt.owner is not None:
        query = query.where(_O.principal == flt.owner)
    return _filtered(query, _O.created_at, flt, dialect)


def _streamed(flt: HistoryFilter, dialect: str) -> Select[Any]:
    """Diagnosed recordings that did not come through the gateway (no owner row)."""
    owned = select(literal(1)).select_from(_O).where(_O.recording_id == _R.recording_id).exists()
    query = (
        select(*_columns(_R.created_at, _R.recording_id))
        .select_from(_R)
        .join(_D, _D.id == newest_diagnosis_id(_R.recording_id))
        .where(not_(owned))
    )
    return _filtered(query, _R.created_at, flt, dialect)


def _newest(query: Select[Any], received_at: Any, recording_id: Any, limit: int) -> Select[Any]:
    """The first ``limit`` rows of ``query`` newest first, as a SELECT that a UNION can take on
    Postgres and SQLite alike (SQLite refuses LIMIT on a bare compound member)."""
    limited = query.order_by(received_at.desc(), recording_id.desc()).limit(limit).subquery()
    return select(limited)


def history_statement(flt: HistoryFilter, dialect: str, *, page: int, page_size: int) -> Select[Any]:
    """The SELECT of one page plus one row (so the caller sees whether more follow)."""
    if not 1 <= page <= MAX_PAGE or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page must be 1..{MAX_PAGE} and page_size 1..{MAX_PAGE_SIZE}")
    # each half stops after the rows this page can need (its index order), then the halves merge
    enough = page * page_size + 1
    parts = [_newest(_uploaded(flt, dialect), _O.created_at, _O.recording_id, enough)]
    if flt.owner is None and flt.status != "pending":
        parts.append(_newest(_streamed(flt, dialect), _R.created_at, _R.recording_id, enough))
    rows_of = union_all(*parts).subquery("h") if len(parts) > 1 else parts[0].subquery("h")
    return (
        select(rows_of)
        .order_by(rows_of.c.received_at.desc(), rows_of.c.recording_id.desc())
        .limit(page_size + 1)
        .offset((page - 1) * page_size)
    )


async def list_history(
    engine: AsyncEngine, flt: HistoryFilter, *, page: int = 1, page_size: int = 25
) -> HistoryPage:
    """One page of recordings, newest first. ``ValueError`` for a page or size out of range."""
    statement = history_statement(flt, engine.dialect.name, page=page, page_size=page_size)
    with translate_errors("list_history"):
        async with engine.connect() as conn:
            rows = (await conn.execute(statement)).all()
    items = [_row(values._asdict()) for values in rows[:page_size]]
    return HistoryPage(items, page, page_size, has_more=len(rows) > page_size)


def _row(values: dict[str, Any]) -> HistoryRow:
    if values["readable"] is not None:
        values["readable"] = bool(values["readable"])
    return HistoryRow(**values)


def _taken_at(table: Any) -> Any:
    """When a recording was taken: the device's acquisition time, else when it was published."""
    return func.coalesce(table.acquired_at, table.ingested_at, table.created_at)


async def previous_diagnosis(
    engine: AsyncEngine, recording_id: str, *, owner: str | None
) -> DiagnosisView | None:
    """The newest diagnosis of the same patient's recording taken just before ``recording_id``
    (same ``patient_ref_hash``; by acquisition time, else publication time, then arrival); None when
    there is none, the recording has no patient hash, or ``owner`` (a principal key) did not upload it."""
    current = aliased(Recording, name="c")
    earlier = Recording.__table__.c
    before = or_(
        _taken_at(earlier) < _taken_at(current),
        and_(_taken_at(earlier) == _taken_at(current),
             func.coalesce(earlier.ingested_at, earlier.created_at) < func.coalesce(current.ingested_at, current.created_at)),
    )  # fmt: skip
    statement = (
        diagnosis_view_select()
        .join(
            current,
            and_(current.recording_id == recording_id, current.patient_ref_hash == earlier.patient_ref_hash),
        )
        .where(earlier.recording_id != recording_id, earlier.patient_ref_hash.is_not(None), before)
    )
    if owner is not None:
        statement = statement.join(
            RecordingOwner,
            and_(RecordingOwner.recording_id == earlier.recording_id, RecordingOwner.principal == owner),
        )
    statement = statement.order_by(
        _taken_at(earlier).desc(), func.coalesce(earlier.ingested_at, earlier.created_at).desc(),
        Diagnosis.diagnosed_at.desc(), Diagnosis.id.desc(),
    ).limit(1)  # fmt: skip
    with translate_errors("previous_diagnosis"):
        async with engine.connect() as conn:
            row = (await conn.execute(statement)).first()
    return None if row is None else to_diagnosis_view(row)
