"""Physician overread of one result: ``POST /api/recordings/{id}/overread`` (confirm, edit, reject)
and ``GET /api/recordings/{id}/overreads`` (the audit trail).

Overreading needs the scope results:confirm (403 without it) and the right to read the recording
(the uploader, or results:read:all; 404 otherwise, as for results); browser sessions send the page's
CSRF token. The trail is readable by whoever may read the result. Every overread is a new version
(``storage.overreads``), published as an event for the exports (``webapp.overread_events``).
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from interpretation.fusion import sph_descriptions
from storage import DatabaseUnavailable, get_diagnosis
from storage.overreads import OverreadConflict, add_overread, overread_trail
from webapp.auth import (
    RECORDINGS_READ,
    RESULTS_CONFIRM,
    RESULTS_READ_ALL,
    Principal,
    authorize_read,
    check_csrf,
    require_scope,
)
from webapp.body import read_json_object
from webapp.errors import GatewayError
from webapp.overread_events import publish_overreads
from webapp.overread_input import confirmed_statements, parse_overread
from webapp.results import overread_json, overread_state_json
from webapp.routes import RECORDING_ID

__all__ = ["overread_router", "MAX_OVERREAD_BODY_BYTES"]

logger = logging.getLogger(__name__)
overread_router = APIRouter()
MAX_OVERREAD_BODY_BYTES = 16 * 1024
_PRIVATE = {"Cache-Control": "no-store"}


def _unavailable(exc: DatabaseUnavailable) -> GatewayError:
    return GatewayError(503, "database_unavailable", "the results database is unavailable; try again shortly")


@overread_router.post("/api/recordings/{recording_id}/overread", status_code=201)
async def post_overread(
    recording_id: str, request: Request, principal: Principal = Depends(require_scope(RESULTS_CONFIRM))
) -> JSONResponse:
    """Store the next overread version (201 with it); 409 ``pending`` before the diagnosis, 409
    ``overread_conflict`` when ``base_version`` is not the latest; 422 for a bad body."""
    if not RECORDING_ID.match(recording_id):
        raise GatewayError(404, "unknown_recording", "no such recording")
    body = await read_json_object(request, MAX_OVERREAD_BODY_BYTES, "the overread")
    check_csrf(request, principal, body.pop("csrf_token", None))
    state = request.app.state.gateway
    try:
        owner = await authorize_read(request, principal, recording_id)
        view = await get_diagnosis(state.engine, recording_id)
    except DatabaseUnavailable as exc:
        raise _unavailable(exc) from exc
    if view is None:
        if owner is None:
            raise GatewayError(404, "unknown_recording", "no such recording")
        raise GatewayError(409, "pending", "the recording has not been diagnosed yet")
    wanted = parse_overread(body, sph_descriptions())
    statements = confirmed_statements(view.statements) if wanted.action == "confirm" else (wanted.statements or [])
    try:
        record = await add_overread(
            state.engine, recording_id, model_version=view.model_version, action=wanted.action,
            statements=statements, reader=principal.key, reader_name=principal.name, free_text=wanted.free_text,
            reason=wanted.reason, base_version=wanted.base_version,
        )  # fmt: skip
    except OverreadConflict as exc:
        raise GatewayError(409, "overread_conflict", "another overread was stored meanwhile; reload the result") from exc
    except DatabaseUnavailable as exc:
        raise _unavailable(exc) from exc
    logger.info("overread stored", extra={"recording_id": recording_id, "version": record.version,
                                          "action": record.action, "principal": principal.key})  # fmt: skip
    published = await publish_overreads(state.engine, state.service.publisher, state.settings.overreads_topic, [record])
    body_out = {**overread_state_json(recording_id, record), "published": bool(published)}
    return JSONResponse(body_out, status_code=201, headers={**_PRIVATE, "Location": body_out["trail_url"]})


@overread_router.get("/api/recordings/{recording_id}/overreads")
async def get_overreads(
    recording_id: str, request: Request, principal: Principal = Depends(require_scope(RECORDINGS_READ, RESULTS_READ_ALL))
) -> JSONResponse:
    """The audit trail, oldest first: every confirm, edit and reject with who and when."""
    if not RECORDING_ID.match(recording_id):
        raise GatewayError(404, "unknown_recording", "no such recording")
    engine = request.app.state.gateway.engine
    try:
        owner = await authorize_read(request, principal, recording_id)
        trail = await overread_trail(engine, recording_id)
        if owner is None and not trail and await get_diagnosis(engine, recording_id) is None:
            raise GatewayError(404, "unknown_recording", "no such recording")
    except DatabaseUnavailable as exc:
        raise _unavailable(exc) from exc
    return JSONResponse({"recording_id": recording_id, "items": [overread_json(r) for r in trail]}, headers=_PRIVATE)
