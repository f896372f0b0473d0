"""Storage: tables, migrations, the diagnosis sink the worker writes to, and reads for the gateway.

Nothing here connects at import time; services call ``create_engine(settings.effective_database_url)``
at start-up and ``ecgstream db upgrade`` applies the migrations. The migration functions (and
Alembic with them) are imported on first use only. Access control (tokens, users, sessions,
recording owners) lives in ``storage.auth_models`` and ``storage.principals``; physician overreads
in ``storage.overreads`` (the worklist reads in ``storage.worklist``); the encrypted patient identity
of uploads in ``storage.identity``.
"""

from typing import Any

from storage import auth_models as _auth_models  # noqa: F401 - registers the access-control tables
from storage import identity as _identity  # noqa: F401 - registers the encrypted patient identities table
from storage import overreads as _overreads  # noqa: F401 - registers the overread audit trail tables
from storage import shadow as _shadow  # noqa: F401 - registers the shadow model's table
from storage import tracings as _tracings  # noqa: F401 - registers the gateway's tracings table
from storage.engine import create_engine
from storage.errors import DatabaseUnavailable, StorageError
from storage.models import Base, Diagnosis, Recording
from storage.privacy import hash_patient_ref
from storage.queries import (
    DiagnosisView,
    count_diagnoses,
    diagnosis_counts_by_recording,
    get_diagnosis,
    recent_diagnoses,
)
from storage.results import DiagnosisResult
from storage.sink import DiagnosisSink, InMemoryDiagnosisSink, SqlDiagnosisSink, WriteOutcome

__all__ = [
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

_MIGRATE_NAMES = {"upgrade", "upgrade_async", "downgrade", "current_revision", "head_revision"}


def __getattr__(name: str) -> Any:
    if name in _MIGRATE_NAMES:
        import storage.migrate

        return getattr(storage.migrate, name)
    raise AttributeError(f"module 'storage' has no attribute {name!r}")
