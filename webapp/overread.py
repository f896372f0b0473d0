"""Physician overread of one result: ``POST /api/recordings/{id}/overread`` (confirm, edit, reject)
and ``GET /api/recordings/{id}/overreads`` (the audit trail).

Overreading needs the scope results:confirm (403 without it) and the right to read the recording
(the uploader, or results:read:all; 404 otherwise, as for results); browser sessions send the page's
CSRF token. The trail is readable by whoever may read the result. Every overread is a new version
(``storage.overreads``), published as an event for the exports (``webapp.overread_events``).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from interpretation.fusion import sph_descriptions
from webapp.auth import RESULTS_CONFIRM, Principal, check_csrf, require_scope
from webapp.body import read_json_object
from webapp.overread_input import parse_overread
from webapp.overreading import record_overread
from webapp.readable import (
    RECORDING_ID,
    ReadableRecording,
    load_readable,
    readable_recording,
    unknown_recording,
)
from webapp.results import overread_json, overread_state_json

__all__ = ["overread_router", "MAX_OVERREAD_BODY_BYTES"]

overread_router = APIRouter()
MAX_OVERREAD_BODY_BYTES = 16 * 1024
_PRIVATE = {"Cache-Control": "no-store"}
_UNAVAILABLE = "the results database is unavailable; try again shortly"


@overread_router.post("/api/recordings/{recording_id}/overread", status_code=201)
async def post_overread(
    recording_id: str, request: Request, principal: Principal = Depends(require_scope(RESULTS_CONFIRM))
) -> JSONResponse:
    """Store the next overread version (201 with it); 409 ``pending`` before the diagnosis, 409
    ``overread_conflict`` when ``base_version`` is not the latest; 422 for a bad body."""
    if not RECORDING_ID.match(recording_id):
        raise unknown_recording()
    body = await read_json_object(request, MAX_OVERREAD_BODY_BYTES, "the overread")
    check_csrf(request, principal, body.pop("csrf_token", None))
    recording = await load_readable(
        request, principal, recording_id, unavailable=_UNAVAILABLE
    )  # after the CSRF check
    view = recording.diagnosed()
    wanted = parse_overread(body, sph_descriptions())
    record, published = await record_overread(request.app.state.gateway, recording, view, wanted)
    body_out = {**overread_state_json(recording_id, record), "published": published}
    return JSONResponse(body_out, status_code=201, headers={**_PRIVATE, "Location": body_out["trail_url"]})


@overread_router.get("/api/recordings/{recording_id}/overreads")
async def get_overreads(
    recording: ReadableRecording = Depends(readable_recording(_UNAVAILABLE)),
) -> JSONResponse:
    """The audit trail, oldest first: every confirm, edit and reject with who and when."""
    trail = await recording.overread_trail()
    return JSONResponse({"recording_id": recording.recording_id, "items": [overread_json(r) for r in trail]},
                        headers=_PRIVATE)  # fmt: skip
