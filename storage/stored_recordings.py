"""Stored recordings with their samples and authoritative diagnosis, read page by page (for replay).

Only reads. Samples come from ``recordings.signal`` (the worker's exact float32 copy, kept with
``STORE_SIGNAL``) when present, else from the gateway's ``tracings`` (float16, uploads only); a
recording with neither has ``signal`` None and cannot be re-analysed. The diagnosis is the newest one
of the recording (latest ``diagnosed_at``, then latest row: as ``storage.queries.get_diagnosis``),
the one the gateway shows.

Pages follow the index ``(created_at, recording_id)`` (migration ``0006_history``) by keyset, oldest
first, one short read per page: memory stays at one page of samples and no transaction is held open
across a long run. ``since <= created_at < until``: when the worker stored the recording.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import numpy as np
from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from schemas.recording import STANDARD_LEADS
from storage.errors import translate_errors
from storage.models import Diagnosis, Recording
from storage.sink import MAX_BIND_PARAMETERS
from storage.tracings import Tracing

__all__ = [
    "StoredDiagnosis", "StoredRecording", "SampleSource", "iter_stored_recordings", "count_stored_recordings",
    "DEFAULT_PAGE_SIZE",
]  # fmt: skip

DEFAULT_PAGE_SIZE = 32
SampleSource = Literal["signal", "tracing"]

_R, _T, _D = Recording.__table__.c, Tracing.__table__.c, Diagnosis.__table__.c


@dataclass(frozen=True)
class StoredDiagnosis:
    """The authoritative diagnosis of a recording, as stored."""

    model_version: str
    statements: list[dict[str, Any]]
    readable: bool
    unreadable_reasons: list[str]
    measurements: dict[str, Any] | None
    quality: dict[str, Any] | None
    diagnosed_at: datetime


@dataclass(frozen=True)
class StoredRecording:
    """``signal`` is (len(leads), n_samples) float32 mV at ``fs`` Hz, or None (no samples kept)."""

    recording_id: str
    created_at: datetime
    age: int | None
    sex: str | None
    height_cm: float | None
    weight_kg: float | None
    fs: float
    signal: np.ndarray | None = field(repr=False)
    leads: tuple[str, ...]
    sample_source: SampleSource | None
    diagnosis: StoredDiagnosis | None


def _samples(row: Any) -> tuple[np.ndarray | None, float, tuple[str, ...], SampleSource | None]:
    n = int(row.n_samples)
    if row.signal is not None and len(row.signal) == 4 * len(STANDARD_LEADS) * n:
        signal = np.frombuffer(row.signal, dtype="<f4").reshape(len(STANDARD_LEADS), n).copy()
        return signal, float(row.sampling_rate_hz), STANDARD_LEADS, "signal"
    if row.samples_f16 is not None:
        leads = tuple(str(row.tracing_leads).split())
        m = int(row.tracing_n_samples)
        if leads and len(row.samples_f16) == 2 * len(leads) * m:
            flat = np.frombuffer(row.samples_f16, dtype="<f2").astype(np.float32)
            return flat.reshape(len(leads), m), float(row.tracing_fs), leads, "tracing"
    return None, float(row.sampling_rate_hz), STANDARD_LEADS, None


def _diagnosis(row: Any) -> StoredDiagnosis:
    return StoredDiagnosis(
        model_version=row.model_version,
        statements=list(row.statements or []),
        readable=bool(row.readable),
        unreadable_reasons=list(row.unreadable_reasons or []),
        measurements=row.measurements,
        quality=row.quality,
        diagnosed_at=row.diagnosed_at,
    )


async def _newest_diagnoses(conn: Any, ids: list[str]) -> dict[str, StoredDiagnosis]:
    found: dict[str, tuple[Any, Any]] = {}  # recording id -> (sort key, row)
    for start in range(0, len(ids), MAX_BIND_PARAMETERS):
        statement = select(
            _D.id, _D.recording_id, _D.model_version, _D.statements, _D.readable, _D.unreadable_reasons,
            _D.measurements, _D.quality, _D.diagnosed_at,
        ).where(_D.recording_id.in_(ids[start : start + MAX_BIND_PARAMETERS]))  # fmt: skip
        for row in (await conn.execute(statement)).all():
            key = (row.diagnosed_at, row.id)
            if row.recording_id not in found or key > found[row.recording_id][0]:
                found[row.recording_id] = (key, row)
    return {recording_id: _diagnosis(row) for recording_id, (_, row) in found.items()}


def _window(statement: Any, since: datetime | None, until: datetime | None) -> Any:
    if since is not None:
        statement = statement.where(_R.created_at >= since)
    if until is not None:
        statement = statement.where(_R.created_at < until)
    return statement


async def count_stored_recordings(engine: AsyncEngine, *, since: datetime | None = None,
                                  until: datetime | None = None) -> int:  # fmt: skip
    """How many recordings ``iter_stored_recordings`` would read without a limit (for a progress bar)."""
    with translate_errors("count_stored_recordings"):
        async with engine.connect() as conn:
            statement = _window(select(func.count()).select_from(Recording), since, until)
            return int((await conn.execute(statement)).scalar_one())


async def iter_stored_recordings(
    engine: AsyncEngine,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> AsyncIterator[list[StoredRecording]]:
    """Pages of at most ``page_size`` stored recordings, oldest first, ``limit`` in all (None: every
    one). Raises ``DatabaseUnavailable`` or ``StorageError`` (see ``storage.errors``)."""
    if page_size < 1:
        raise ValueError("page_size must be >= 1")
    columns = (
        _R.recording_id, _R.created_at, _R.age, _R.sex, _R.height_cm, _R.weight_kg, _R.sampling_rate_hz,
        _R.n_samples, _R.signal, _T.samples_f16, _T.leads.label("tracing_leads"),
        _T.n_samples.label("tracing_n_samples"), _T.sampling_rate_hz.label("tracing_fs"),
    )  # fmt: skip
    after: tuple[datetime, str] | None = None
    left = limit
    while left is None or left > 0:
        size = page_size if left is None else min(page_size, left)
        statement = _window(select(*columns).outerjoin(Tracing, _T.recording_id == _R.recording_id), since, until)
        if after is not None:
            statement = statement.where(
                or_(_R.created_at > after[0], and_(_R.created_at == after[0], _R.recording_id > after[1]))
            )
        statement = statement.order_by(_R.created_at, _R.recording_id).limit(size)
        with translate_errors("iter_stored_recordings"):
            async with engine.connect() as conn:
                rows = (await conn.execute(statement)).all()
                diagnoses = await _newest_diagnoses(conn, [row.recording_id for row in rows]) if rows else {}
        if not rows:
            return
        page = []
        for row in rows:
            signal, fs, leads, source = _samples(row)
            page.append(StoredRecording(
                row.recording_id, row.created_at, row.age, row.sex, row.height_cm, row.weight_kg, fs, signal,
                leads, source, diagnoses.get(row.recording_id),
            ))  # fmt: skip
        yield page
        after = (rows[-1].created_at, rows[-1].recording_id)
        left = None if left is None else left - len(rows)
        if len(rows) < size:
            return
