"""What the PDF report needs beside the diagnosis and the samples (``webapp.report.ReportContext``).

The site's time zone (``SITE_TIMEZONE``), the patient's name and identifier as entered at upload
(decrypted here from ``storage.identity``: never logged, never in a URL or a JSON answer), the
physician's overreads and the patient's previous ECG the caller may read.
"""

from __future__ import annotations

import logging

from core.config import Settings
from storage import DatabaseUnavailable
from storage.identity import IdentityUnreadable, StoredIdentity, load_identity
from webapp.errors import GatewayError
from webapp.readable import ReadableRecording
from webapp.report import ReportContext

__all__ = ["report_context"]

logger = logging.getLogger(__name__)


async def _identity(recording: ReadableRecording, secret: str) -> tuple[StoredIdentity | None, str | None]:
    """The identity as entered, or None and why it is missing."""
    try:
        return await load_identity(recording.engine, recording.recording_id, secret), None
    except IdentityUnreadable:
        logger.warning("patient identity unreadable (PATIENT_HMAC_SECRET changed?)",
                       extra={"recording_id": recording.recording_id})  # fmt: skip
        return None, "not available (stored under another key)"
    except DatabaseUnavailable as exc:
        raise GatewayError(503, "database_unavailable", recording.unavailable) from exc


async def report_context(recording: ReadableRecording, settings: Settings) -> ReportContext:
    """The site's zone, the patient as entered, the overread trail and the previous ECG."""
    identity, note = await _identity(recording, settings.patient_hmac_secret)
    trail = await recording.overread_trail()
    previous = await recording.previous()
    return ReportContext(
        zone=settings.site_zone,
        patient_name=None if identity is None else identity.patient_name,
        patient_ref=None if identity is None else identity.patient_ref,
        identity_note=note,
        overreads=tuple(trail),
        previous=previous,
    )
