"""What the gateway keeps of an accepted upload: who uploaded it (``keep_owner``: the right to read
it), the samples (for the tracing and the report) and the patient identity as entered (encrypted,
for the report only).

Losing the samples or the identity loses only what they would have shown, never the upload: the
failure is logged (without the patient's data) and swallowed. An owner that cannot be filed is a 503:
the recording was queued, but nobody could read its result.
"""

from __future__ import annotations

import logging
from typing import Any

from schemas.recording import Recording
from storage import DatabaseUnavailable, StorageError
from storage.identity import StoredIdentity, store_identity
from storage.principals import record_owner
from storage.tracings import store_tracing
from webapp.errors import GatewayError

__all__ = ["keep_owner", "keep_tracing", "keep_identity"]

logger = logging.getLogger(__name__)


async def keep_identity(engine: Any, secret: str, recording_id: str, identity: StoredIdentity) -> None:
    """Keep the patient identifier and name entered at upload, encrypted (``storage.identity``), for
    the report; a failure loses only the names on the report (it then says so), never the upload."""
    try:
        await store_identity(engine, recording_id, identity, secret)
    except (DatabaseUnavailable, StorageError) as exc:
        logger.warning(
            "patient identity not kept", extra={"recording_id": recording_id, "error": type(exc).__name__}
        )


async def keep_tracing(engine: Any, rec: Recording) -> None:
    """Keep an accepted upload's samples (no demographics, no reference); a failure only loses the
    tracing, never the upload, so it is logged and swallowed."""
    try:
        await store_tracing(engine, rec.recording_id, rec.signal, rec.fs, tuple(rec.leads))
    except (DatabaseUnavailable, ValueError) as exc:
        logger.warning(
            "tracing not kept", extra={"recording_id": rec.recording_id, "error": type(exc).__name__}
        )


async def keep_owner(engine: Any, recording_id: str, principal_key: str) -> None:
    """File the queued upload under the principal that sent it; 503 when the database does not answer."""
    try:
        await record_owner(engine, recording_id, principal_key)
    except DatabaseUnavailable as exc:
        logger.error("upload queued but its owner not stored", extra={"recording_id": recording_id})
        raise GatewayError(
            503,
            "database_unavailable",
            "the recording was queued, but the database is unavailable to file it",
        ) from exc
