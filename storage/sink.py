"""Where the worker writes diagnoses: one interface, a SQL implementation and an in-memory one.

Conflict policy (both tables): **first write wins**. A batch is written in one transaction with
``INSERT ... ON CONFLICT DO NOTHING`` on ``recordings(recording_id)`` and on
``diagnoses(recording_id, model_version)``. The worker delivers at least once, so the same
recording may arrive again after a crash or a rebalance; its diagnosis by the same model version is
the same answer, and the row already stored is the one whose diagnosis event may have been
published, so it is kept unchanged (timings and provenance included) and a redelivered batch
changes nothing. A recording row is immutable metadata: a later model version adds a diagnosis row
but never rewrites the recording. Within one batch the first occurrence of a key wins the same way.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.errors import DatabaseUnavailable, translate_errors
from storage.models import Diagnosis, Recording
from storage.privacy import hash_patient_ref
from storage.results import DiagnosisResult

__all__ = ["DiagnosisSink", "SqlDiagnosisSink", "InMemoryDiagnosisSink", "MAX_BIND_PARAMETERS"]

logger = logging.getLogger(__name__)

# asyncpg and SQLite both cap one statement at 32767 bound parameters; a batch whose rows need
# more is split into several multi-row INSERTs, still inside the one transaction.
MAX_BIND_PARAMETERS = 30_000


@runtime_checkable
class DiagnosisSink(Protocol):
    """Stores a batch of diagnoses atomically and idempotently."""

    async def write_batch(self, results: Sequence[DiagnosisResult]) -> None: ...


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
        dialect = engine.dialect.name
        if dialect == "postgresql":
            self._insert: Any = postgresql.insert
        elif dialect == "sqlite":
            self._insert = sqlite.insert
        else:
            raise ValueError(f"unsupported database dialect {dialect!r} (postgresql or sqlite)")

    def __repr__(self) -> str:
        return f"SqlDiagnosisSink(dialect={self.engine.dialect.name!r}, store_signal={self.store_signal})"

    async def write_batch(self, results: Sequence[DiagnosisResult]) -> None:
        """Insert the batch in one transaction; rows whose key already exists are left untouched."""
        if not results:
            return
        now = datetime.now(UTC)
        with translate_errors("write_batch"):  # a value the database cannot take is a StorageError too
            # first occurrence per key, then key order: concurrent writers of overlapping batches
            # (a redelivery during a rebalance) take row locks in one order and cannot deadlock
            by_recording = sorted(
                _first_by_key(results, lambda r: r.recording_id), key=lambda r: r.recording_id
            )
            by_key = sorted(_first_by_key(results, lambda r: r.key), key=lambda r: r.key)
            recordings = [self._recording_row(r, now) for r in by_recording]
            diagnoses = [self._diagnosis_row(r, now) for r in by_key]
            async with self.engine.begin() as conn:
                await self._insert_ignore(conn, Recording.__table__, recordings, ["recording_id"])
                new = await self._insert_ignore(
                    conn, Diagnosis.__table__, diagnoses, ["recording_id", "model_version"]
                )
        logger.debug(
            "wrote diagnosis batch",
            extra={"batch_size": len(results), "new_diagnoses": new, "duplicates": len(results) - new},
        )

    async def _insert_ignore(
        self, conn: AsyncConnection, table: Any, rows: list[dict[str, Any]], keys: list[str]
    ) -> int:
        """Multi-row ``INSERT ... ON CONFLICT (keys) DO NOTHING``; returns the number of rows inserted."""
        assert isinstance(table, Table)
        per_statement = max(1, MAX_BIND_PARAMETERS // len(table.columns))
        inserted = 0
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            statement = self._insert(table).values(chunk).on_conflict_do_nothing(index_elements=keys)
            result = await conn.execute(statement)
            inserted += max(result.rowcount, 0)
        return inserted

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
        }


class InMemoryDiagnosisSink:
    """The same interface in a dict keyed by ``(recording_id, model_version)``, for pure tests.

    Same first-write-wins policy as the SQL sink. ``fail_next(n)`` makes the next ``n`` calls raise
    ``DatabaseUnavailable`` without storing anything, to test the caller's retry logic. Holds the
    results as given (clear patient references included): tests only.
    """

    def __init__(self) -> None:
        self.diagnoses: dict[tuple[str, str], DiagnosisResult] = {}
        self.batches: list[int] = []  # size of every batch written successfully
        self.calls = 0
        self._failures: list[Exception] = []

    def fail_next(self, times: int = 1, error: Exception | None = None) -> None:
        """Make the next ``times`` calls fail with ``error`` (default ``DatabaseUnavailable``)."""
        for _ in range(times):
            self._failures.append(error or DatabaseUnavailable("injected failure"))

    async def write_batch(self, results: Sequence[DiagnosisResult]) -> None:
        self.calls += 1
        if self._failures:
            raise self._failures.pop(0)
        for result in results:
            self.diagnoses.setdefault(result.key, result)
        self.batches.append(len(results))

    def counts_by_recording(self) -> dict[str, int]:
        """Diagnoses per recording id (each recording should have one per model version)."""
        counts: dict[str, int] = {}
        for recording_id, _ in self.diagnoses:
            counts[recording_id] = counts.get(recording_id, 0) + 1
        return counts
