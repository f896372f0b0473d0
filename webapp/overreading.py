"""One physician overread of a diagnosed recording: stored as the next version of its audit trail
(``storage.overreads``) and published for the exports (``webapp.overread_events``)."""

from __future__ import annotations

import logging

from storage import DatabaseUnavailable, DiagnosisView
from storage.overreads import OverreadConflict, OverreadRecord, add_overread
from webapp.errors import GatewayError
from webapp.overread_events import publish_overreads
from webapp.overread_input import OverreadRequest, confirmed_statements
from webapp.readable import ReadableRecording
from webapp.state import GatewayState

__all__ = ["record_overread"]

logger = logging.getLogger(__name__)


async def record_overread(
    state: GatewayState, recording: ReadableRecording, view: DiagnosisView, wanted: OverreadRequest
) -> tuple[OverreadRecord, bool]:
    """Store ``wanted`` on ``view`` (a confirm takes the computer's statements as they are), then
    publish it; returns the stored version and whether the broker took it (else it is republished
    later). 409 ``overread_conflict`` when ``base_version`` is not the latest."""
    principal = recording.principal
    statements = (
        confirmed_statements(view.statements) if wanted.action == "confirm" else (wanted.statements or [])
    )
    try:
        record = await add_overread(
            state.engine, recording.recording_id, model_version=view.model_version, action=wanted.action,
            statements=statements, reader=principal.key, reader_name=principal.name, free_text=wanted.free_text,
            reason=wanted.reason, base_version=wanted.base_version,
        )  # fmt: skip
    except OverreadConflict as exc:
        raise GatewayError(
            409, "overread_conflict", "another overread was stored meanwhile; reload the result"
        ) from exc
    except DatabaseUnavailable as exc:
        raise GatewayError(503, "database_unavailable", recording.unavailable) from exc
    logger.info("overread stored", extra={"recording_id": recording.recording_id, "version": record.version,
                                          "action": record.action, "principal": principal.key})  # fmt: skip
    published = await publish_overreads(
        state.engine, state.service.publisher, state.settings.overreads_topic, [record]
    )
    return record, bool(published)
