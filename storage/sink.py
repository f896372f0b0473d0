"""Where the worker writes diagnoses: one interface, a SQL implementation and an in-memory one.

Conflict policy (both tables): **first write wins**. A batch is written in one transaction with
``INSERT ... ON CONFLICT DO NOTHING`` on ``recordings(recording_id)`` and on
``diagnoses(recording_id, model_version)``. The worker delivers at least once, so the same
recording may arrive again after a crash or a rebalance; its diagnosis by the same model version is
the same answer, and the row already stored is the one whose diagnosis event may have been
published, so it is kept unchanged (timings and provenance included) and a redelivered batch
changes nothing. A recording row is immutable metadata: a later model version adds a diagnosis row
but never rewrites the recording. Within one batch the first occurrence of a key wins the same way.

Same id, different recording: a result whose ``content_sha256`` differs from the stored recording's
(two sources chose the same id) is a *conflicting duplicate*: nothing of it is written, and
``write_batch`` reports it (``WriteOutcome.stored[i] is None``) so the worker dead-letters it instead
of publishing a diagnosis that contradicts the stored one. For every other result ``write_batch``
returns the diagnosis *as stored* (the first write's statements, probabilities, times, verdict,
critical findings and beats), so the event published for a redelivery always matches the database. Rows from before the content hash
existed are compared by ``signal_sha256``.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.errors import DatabaseUnavailable, translate_errors
from storage.models import Diagnosis, Recording
from storage.privacy import hash_patient_ref
from storage.results import DiagnosisResult

__all__ = [
    "DiagnosisSink",
    "SqlDiagnosisSink",
    "InMemoryDiagnosisSink",
    "WriteOutcome",
    "MAX_BIND_PARAMETERS",
]

logger = logging.getLogger(__name__)

# asyncpg and SQLite both cap one statement at 32767 bound parameters: the ``IN (...)`` look-ups of a
# larger batch are split into chunks of this many ids (the INSERTs bind one row at a time).
MAX_BIND_PARAMETERS = 30_000


@dataclass(frozen=True)
class WriteOutcome:
    """Per result of a batch (same order): the diagnosis as stored, or None for a conflicting duplicate."""

    stored: list[DiagnosisResult | None]

    @property
    def conflicting(self) -> list[int]:
        """Indices of the results that were not stored: their id names a different recording."""
        return [i for i, result in enumerate(self.stored) if result is None]


@runtime_checkable
class DiagnosisSink(Protocol):
    """Stores a batch of diagnoses atomically and idempotently."""

    async def write_batch(self, results: Sequence[DiagnosisResult]) -> WriteOutcome: ...


def _same_recording(result: DiagnosisResult, content_sha256: str | None, signal_sha256: str | None) -> bool:
    """True when ``result`` is the recording stored under its id (a redelivery), False for a collision."""
    if result.content_sha256 is None:
        return True  # a caller that does not hash content cannot tell: first write wins, as before
    if content_sha256 is not None:
        return content_sha256 == result.content_sha256
    return signal_sha256 is None or signal_sha256 == result.signal_sha256


def _as_stored(result: DiagnosisResult, stored: DiagnosisResult | Any) -> DiagnosisResult:
    """``result`` with the diagnosis and recording fields the database (first write) holds."""
    return replace(
        result,
        statements=list(stored.statements),
        probabilities=dict(stored.probabilities),
        diagnosed_at=stored.diagnosed_at,
        received_at=stored.received_at,
        device_id=stored.device_id,
        acquired_at=stored.acquired_at,
        ingested_at=stored.ingested_at,
        verdict=stored.verdict,
        critical_findings=stored.critical_findings,
        beats=stored.beats,
    )


def _first_by_key(items: Iterable[Any], key: Any) -> list[Any]:
    seen: dict[Any, Any] = {}
    for item in items:
        seen.setdefault(key(item), item)
    return list(seen.values())


def _json_safe(value: Any) -> Any:
    """Plain JSON types (numpy scalars become float/int); NaN and infinities are rejected."""
    return json.loads(json.dumps(value, default=_to_builtin, allow_nan=False))


def _to_builtin(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    if hasattr(value, "tolist"):  # numpy array
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _finite_or_none(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


class SqlDiagnosisSink:
    """Writes batches to the ``recordings`` and ``diagnoses`` tables (Postgres or SQLite).

    ``write_batch`` raises ``DatabaseUnavailable`` when the database cannot be reached (the batch
    was not written; call again later with the same batch) and ``StorageError`` for anything the
    database rejects. The engine's pool is pre-pinged, so the same sink works again once the
    database is back.
    """

    def __init__(self, engine: AsyncEngine, *, hmac_secret: str, store_signal: bool = False) -> None:
        if not hmac_secret:
            raise ValueError("hmac_secret must not be empty")
        self.engine = engine
        self._secret = hmac_secret
        self.store_signal = store_signal
        self._statements: dict[str, Any] = {}  # table name -> its INSERT ... ON CONFLICT DO NOTHING
        dialect = engine.dialect.name
        if dialect == "postgresql":
            self._insert: Any = postgresql.insert
        elif dialect == "sqlite":
            self._insert = sqlite.insert
        else:
            raise ValueError(f"unsupported database dialect {dialect!r} (postgresql or sqlite)")

    def __repr__(self) -> str:
        return f"SqlDiagnosisSink(dialect={self.engine.dialect.name!r}, store_signal={self.store_signal})"

    async def write_batch(self, results: Sequence[DiagnosisResult]) -> WriteOutcome:
        """Insert the batch in one transaction; rows whose key already exists are left untouched.

        Returns each result as stored, None for a conflicting duplicate (see the module doc).
        """
        if not results:
            return WriteOutcome([])
        now = datetime.now(UTC)
        with translate_errors("write_batch"):  # a value the database cannot take is a StorageError too
            # first occurrence per key, then key order: concurrent writers of overlapping batches
            # (a redelivery during a rebalance) take row locks in one order and cannot deadlock
            by_recording = sorted(
                _first_by_key(results, lambda r: r.recording_id), key=lambda r: r.recording_id
            )
            recordings = [self._recording_row(r, now) for r in by_recording]
            async with self.engine.begin() as conn:
                await self._insert_ignore(conn, Recording.__table__, recordings, ["recording_id"])
                hashes = await self._stored_hashes(conn, [r.recording_id for r in by_recording])
                same = [_same_recording(r, *hashes.get(r.recording_id, (None, None))) for r in results]
                accepted = [r for r, ok in zip(results, same, strict=True) if ok]
                by_key = sorted(_first_by_key(accepted, lambda r: r.key), key=lambda r: r.key)
                diagnoses = [self._diagnosis_row(r, now) for r in by_key]
                await self._insert_ignore(
                    conn, Diagnosis.__table__, diagnoses, ["recording_id", "model_version"]
                )
                stored = await self._stored_diagnoses(conn, sorted({r.recording_id for r in accepted}))
        outcome = WriteOutcome([
            _as_stored(r, stored[r.key]) if ok else None for r, ok in zip(results, same, strict=True)
        ])  # fmt: skip
        logger.debug(
            "wrote diagnosis batch",
            extra={"batch_size": len(results), "conflicting_duplicates": len(outcome.conflicting)},
        )  # fmt: skip
        return outcome

    async def _stored_hashes(
        self, conn: AsyncConnection, ids: list[str]
    ) -> dict[str, tuple[str | None, str | None]]:
        """recording id -> (content_sha256, signal_sha256) of the stored rows."""
        table = Recording.__table__
        found: dict[str, tuple[str | None, str | None]] = {}
        for start in range(0, len(ids), MAX_BIND_PARAMETERS):
            chunk = ids[start : start + MAX_BIND_PARAMETERS]
            statement = select(table.c.recording_id, table.c.content_sha256, table.c.signal_sha256).where(
                table.c.recording_id.in_(chunk)
            )
            for row in (await conn.execute(statement)).all():
                found[row.recording_id] = (row.content_sha256, row.signal_sha256)
        return found

    async def _stored_diagnoses(self, conn: AsyncConnection, ids: list[str]) -> dict[tuple[str, str], Any]:
        """(recording id, model version) -> the stored diagnosis joined with its recording's metadata."""
        d, r = Diagnosis.__table__, Recording.__table__
        found: dict[tuple[str, str], Any] = {}
        for start in range(0, len(ids), MAX_BIND_PARAMETERS):
            chunk = ids[start : start + MAX_BIND_PARAMETERS]
            statement = (
                select(
                    d.c.recording_id,
                    d.c.model_version,
                    d.c.statements,
                    d.c.probabilities,
                    d.c.diagnosed_at,
                    d.c.received_at,
                    r.c.device_id,
                    r.c.acquired_at,
                    r.c.ingested_at,
                    d.c.verdict,
                    d.c.critical_findings,
                    d.c.beats,
                )  # fmt: skip
                .join(r, r.c.recording_id == d.c.recording_id)
                .where(d.c.recording_id.in_(chunk))
            )
            for row in (await conn.execute(statement)).all():
                found[(row.recording_id, row.model_version)] = row
        return found

    async def _insert_ignore(
        self, conn: AsyncConnection, table: Any, rows: list[dict[str, Any]], keys: list[str]
    ) -> None:
        """``INSERT ... ON CONFLICT (keys) DO NOTHING`` of every row: one statement, executed for many rows.

        The statement is the same for every batch, so SQLAlchemy compiles it once (its compiled cache)
        and the driver prepares it once per connection: asyncpg pipelines the rows of ``executemany``
        in one round trip, SQLite runs them in one ``executemany`` call.
        """
        assert isinstance(table, Table)
        if rows:
            statement = self._statements.get(table.name)
            if statement is None:
                statement = self._statements.setdefault(
                    table.name, self._insert(table).on_conflict_do_nothing(index_elements=keys)
                )
            await conn.execute(statement, rows)

    def _recording_row(self, r: DiagnosisResult, now: datetime) -> dict[str, Any]:
        return {
            "recording_id": r.recording_id,
            "device_id": r.device_id,
            "patient_ref_hash": hash_patient_ref(r.patient_ref, self._secret) if r.patient_ref else None,
            "age": r.age,
            "sex": r.sex,
            "height_cm": _finite_or_none(r.height_cm),
            "weight_kg": _finite_or_none(r.weight_kg),
            "sampling_rate_hz": float(r.sampling_rate_hz),
            "n_samples": int(r.n_samples),
            "duration_s": r.duration_s,
            "acquired_at": r.acquired_at,
            "ingested_at": r.ingested_at,
            "signal_sha256": r.signal_sha256,
            "content_sha256": r.content_sha256,
            "signal": self._signal_to_store(r),
            "created_at": now,
            "source_topic": r.source_topic,
            "source_partition": r.source_partition,
            "source_offset": r.source_offset,
        }

    def _signal_to_store(self, r: DiagnosisResult) -> bytes | None:
        """The signal bytes when ``store_signal`` is on, unless they would leak the patient reference.

        Defence in depth: bytes that contain the clear reference (say, a whole encoded event instead
        of the samples) are not stored; the row keeps ``signal_sha256`` and a warning is logged.
        """
        if not self.store_signal or r.signal is None:
            return None
        signal = bytes(r.signal)
        if r.patient_ref and r.patient_ref.encode("utf-8") in signal:
            logger.warning("signal bytes contain the clear patient reference; signal not stored")
            return None
        return signal

    @staticmethod
    def _diagnosis_row(r: DiagnosisResult, now: datetime) -> dict[str, Any]:
        return {
            "recording_id": r.recording_id,
            "model_version": r.model_version,
            "statements": _json_safe(r.statements),
            "probabilities": _json_safe({str(k): v for k, v in r.probabilities.items()}),
            "received_at": r.received_at,
            "diagnosed_at": r.diagnosed_at,
            "queue_wait_seconds": float(r.queue_wait_seconds),
            "preprocess_seconds": float(r.preprocess_seconds),
            "inference_seconds": float(r.inference_seconds),
            "latency_from_acquisition_seconds": r.latency_from_acquisition_seconds,
            "latency_from_ingest_seconds": r.latency_from_ingest_seconds,
            "readable": bool(r.readable),
            "unreadable_reasons": list(r.unreadable_reasons) if not r.readable else None,
            "measurements": None if r.measurements is None else _json_safe(r.measurements),
            "quality": None if r.quality is None else _json_safe(r.quality),
            "created_at": now,
            "verdict": None if r.verdict is None else _json_safe(r.verdict),
            "critical_findings": None if r.critical_findings is None else _json_safe(r.critical_findings),
            "beats": None if r.beats is None else _json_safe(r.beats),
        }


class InMemoryDiagnosisSink:
    """The same interface in a dict keyed by ``(recording_id, model_version)``, for pure tests.

    Same first-write-wins policy as the SQL sink. ``fail_next(n)`` makes the next ``n`` calls raise
    ``DatabaseUnavailable`` without storing anything, to test the caller's retry logic. Holds the
    results as given (clear patient references included): tests only.
    """

    def __init__(self) -> None:
        self.diagnoses: dict[tuple[str, str], DiagnosisResult] = {}
        self.recordings: dict[str, DiagnosisResult] = {}  # first result per recording id
        self.batches: list[int] = []  # size of every batch written successfully
        self.calls = 0
        self._failures: list[Exception] = []

    def fail_next(self, times: int = 1, error: Exception | None = None) -> None:
        """Make the next ``times`` calls fail with ``error`` (default ``DatabaseUnavailable``)."""
        for _ in range(times):
            self._failures.append(error or DatabaseUnavailable("injected failure"))

    async def write_batch(self, results: Sequence[DiagnosisResult]) -> WriteOutcome:
        self.calls += 1
        if self._failures:
            raise self._failures.pop(0)
        stored: list[DiagnosisResult | None] = []
        for result in results:
            first = self.recordings.setdefault(result.recording_id, result)
            if not _same_recording(result, first.content_sha256, first.signal_sha256):
                stored.append(None)
                continue
            stored.append(_as_stored(result, self.diagnoses.setdefault(result.key, result)))
        self.batches.append(len(results))
        return WriteOutcome(stored)

    def counts_by_recording(self) -> dict[str, int]:
        """Diagnoses per recording id (each recording should have one per model version)."""
        counts: dict[str, int] = {}
        for recording_id, _ in self.diagnoses:
            counts[recording_id] = counts.get(recording_id, 0) + 1
        return counts
