"""Pure tests: hashing, result properties, the in-memory sink, error classification, exports."""

from __future__ import annotations

import errno
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import exc as sa_exc

import storage
from storage import (
    DatabaseUnavailable,
    DiagnosisResult,
    InMemoryDiagnosisSink,
    StorageError,
    hash_patient_ref,
)
from storage.errors import is_unavailable, translate_errors
from storage.sink import DiagnosisSink

Factory = Callable[..., DiagnosisResult]


def test_hash_patient_ref_is_hmac_sha256_hex() -> None:
    # RFC-style known vector: HMAC_SHA256("key", "The quick brown fox jumps over the lazy dog")
    expected = "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    assert hash_patient_ref("The quick brown fox jumps over the lazy dog", "key") == expected


def test_hash_depends_on_secret_and_rejects_empty_secret() -> None:
    assert hash_patient_ref("P-1", "a") != hash_patient_ref("P-1", "b")
    assert hash_patient_ref("P-1", "a") == hash_patient_ref("P-1", "a")
    with pytest.raises(ValueError):
        hash_patient_ref("P-1", "")


def test_result_latencies_and_duration(result_factory: Factory) -> None:
    r = result_factory()
    assert r.duration_s == pytest.approx(10.0)
    assert r.latency_from_acquisition_seconds == pytest.approx(3.0)
    assert r.latency_from_ingest_seconds == pytest.approx(1.0)
    assert result_factory(acquired_at=None, ingested_at=None).latency_from_acquisition_seconds is None


def test_result_latency_mixes_naive_utc_and_other_zones(result_factory: Factory) -> None:
    plus2 = timezone(timedelta(hours=2))
    r = result_factory(
        acquired_at=datetime(2026, 1, 1, 12, 0, 0),  # naive = UTC
        diagnosed_at=datetime(2026, 1, 1, 14, 0, 1, tzinfo=plus2),
    )
    assert r.latency_from_acquisition_seconds == pytest.approx(1.0)


def test_result_repr_hides_patient_ref_and_signal(result_factory: Factory) -> None:
    r = result_factory(patient_ref="CLEAR-REF-XYZ", signal=b"SIGNALBYTES")
    assert "CLEAR-REF-XYZ" not in repr(r) and "SIGNALBYTES" not in repr(r)


async def test_in_memory_sink_is_idempotent_first_write_wins(result_factory: Factory) -> None:
    sink = InMemoryDiagnosisSink()
    assert isinstance(sink, DiagnosisSink)
    a, b = result_factory(), result_factory()
    a_again = result_factory(recording_id=a.recording_id, queue_wait_seconds=99.0)
    await sink.write_batch([a, b, a_again])  # duplicate inside the batch
    await sink.write_batch([a, b])  # redelivery
    assert sink.counts_by_recording() == {a.recording_id: 1, b.recording_id: 1}
    assert sink.diagnoses[a.key].queue_wait_seconds == a.queue_wait_seconds
    a_v2 = result_factory(recording_id=a.recording_id, model_version="cae-2.0.0")
    await sink.write_batch([a_v2])
    assert sink.counts_by_recording()[a.recording_id] == 2
    assert sink.batches == [3, 2, 1]


async def test_in_memory_sink_injected_failures_store_nothing(result_factory: Factory) -> None:
    sink = InMemoryDiagnosisSink()
    sink.fail_next(2)
    batch = [result_factory(), result_factory()]
    for _ in range(2):
        with pytest.raises(DatabaseUnavailable):
            await sink.write_batch(batch)
        assert sink.diagnoses == {}
    await sink.write_batch(batch)
    assert len(sink.diagnoses) == 2 and sink.calls == 3


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(errno.ECONNREFUSED, "refused"),
        TimeoutError(),
        OSError("network unreachable"),
        sa_exc.OperationalError("SELECT 1", {}, Exception("server closed the connection")),
        sa_exc.DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True),
        sa_exc.InterfaceError("SELECT 1", {}, Exception("connection is closed")),
        sa_exc.TimeoutError("QueuePool limit reached"),
    ],
)
def test_connection_errors_become_database_unavailable(error: Exception) -> None:
    assert is_unavailable(error)
    with pytest.raises(DatabaseUnavailable) as info, translate_errors("op"):
        raise error
    assert info.value.__cause__ is error


@pytest.mark.parametrize(
    "error",
    [
        sa_exc.IntegrityError("INSERT", {}, Exception("duplicate key")),
        sa_exc.ProgrammingError("SELECT", {}, Exception('relation "diagnoses" does not exist')),
        sa_exc.OperationalError("SELECT", {}, Exception("no such table: diagnoses")),
        ValueError("Out of range float values are not JSON compliant"),
    ],
)
def test_other_errors_become_storage_error(error: Exception) -> None:
    assert not is_unavailable(error)
    with pytest.raises(StorageError) as info, translate_errors("op"):
        raise error
    assert info.value.__cause__ is error


def test_error_tree() -> None:
    from core.errors import EcgstreamError

    assert issubclass(DatabaseUnavailable, EcgstreamError) and issubclass(StorageError, EcgstreamError)
    assert not issubclass(DatabaseUnavailable, StorageError)  # retry one, stop on the other


def test_public_api() -> None:
    assert sorted(storage.__all__) == sorted(
        [
            "create_engine",
            "DatabaseUnavailable",
            "StorageError",
            "upgrade",
            "upgrade_async",
            "downgrade",
            "current_revision",
            "head_revision",
            "Base",
            "Recording",
            "Diagnosis",
            "hash_patient_ref",
            "DiagnosisResult",
            "DiagnosisSink",
            "SqlDiagnosisSink",
            "WriteOutcome",
            "InMemoryDiagnosisSink",
            "DiagnosisView",
            "get_diagnosis",
            "recent_diagnoses",
            "count_diagnoses",
            "diagnosis_counts_by_recording",
        ]
    )
    for name in storage.__all__:
        assert getattr(storage, name) is not None


def test_utc_is_assumed_for_naive_datetimes() -> None:
    from storage.models import UtcDateTime

    naive = datetime(2026, 1, 1, 12)
    bound = UtcDateTime().process_bind_param(naive, None)  # type: ignore[arg-type]
    assert bound == naive.replace(tzinfo=UTC)
