"""HTTP routes: the upload page, the JSON API and the health check."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile
from starlette.types import Message, Receive

from webapp.auth import (
    RECORDINGS_WRITE,
    AuthError,
    Principal,
    authenticate,
    check_csrf,
    csrf_token,
    require_scope,
)
from webapp.errors import GatewayError, UploadTooLarge
from webapp.fields import parse_fields
from webapp.keeping import keep_owner
from webapp.page import render_index
from webapp.readable import ReadableRecording, readable_recording
from webapp.results import diagnosis_json, pending_json
from webapp.service import UploadedFile
from webapp.state import GatewayState

__all__ = ["router"]

logger = logging.getLogger(__name__)

router = APIRouter()
MAX_FILES = 2  # one file, or a WFDB header and its signal file
_RESULT = readable_recording("the results database is unavailable; the page keeps trying")


def _state(request: Request) -> GatewayState:
    state: GatewayState = request.app.state.gateway
    return state


def _limited(receive: Receive, state: GatewayState) -> Receive:
    """``receive`` bounded in size: ``UploadTooLarge`` (quoting the upload limit) once the body exceeds
    ``max_body_bytes`` (the upload limit plus the multipart overhead). Its time is bounded for every
    route by ``webapp.deadlines.BodyDeadline`` (``UploadTimeout`` after UPLOAD_BODY_TIMEOUT_SECONDS)."""
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > state.max_body_bytes:
                raise UploadTooLarge(state.max_upload_bytes)
        return message

    return wrapped


def _check_headers(request: Request, state: GatewayState) -> None:
    """Reject before reading the body: wrong content type, or a declared length above the limit."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise GatewayError(415, "not_multipart", "send the file and the form fields as multipart/form-data")
    length = request.headers.get("content-length", "")
    if length.isascii() and length.isdigit() and int(length) > state.max_body_bytes:
        raise UploadTooLarge(state.max_upload_bytes)


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def index(request: Request) -> Response:
    principal = await authenticate(request)
    if principal is None:
        return RedirectResponse("/login", status_code=303)
    token = csrf_token(request.app.state.auth, principal)
    return HTMLResponse(
        render_index(
            _state(request).max_upload_bytes,
            csrf_token=token,
            user=principal.name,
            can_confirm=principal.confirms,
        ),
        headers={"Cache-Control": "no-store"},
    )


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    """200 when the database answers; 503 otherwise (the producer reconnects by itself)."""
    from sqlalchemy import text

    try:
        async with _state(request).engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:
        logger.warning("health check: database unavailable", exc_info=True)
        return JSONResponse({"status": "unavailable", "database": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


@router.get("/openapi.json", include_in_schema=False)
async def openapi_schema(request: Request) -> JSONResponse:
    """The API description, for any authenticated caller (401 without credentials)."""
    if await authenticate(request) is None:
        raise AuthError(
            401, "unauthenticated", "sign in, or send an API token as `Authorization: Bearer <token>`"
        )
    return JSONResponse(request.app.openapi(), headers={"Cache-Control": "no-store"})


@router.post("/api/recordings", status_code=202)
async def create_recording(
    request: Request, principal: Principal = Depends(require_scope(RECORDINGS_WRITE))
) -> JSONResponse:
    """Multipart ``file`` (once, or twice for WFDB) + age, sex, height_cm, weight_kg
    [+ patient_ref, device_id] -> 202 ``{"recording_id", "status": "queued"}``; scope recordings:write."""
    state = _state(request)
    _check_headers(request, state)
    limited = Request(request.scope, _limited(request.receive, state))
    async with limited.form(max_files=MAX_FILES, max_fields=16) as form:
        items = form.multi_items()
        check_csrf(request, principal, form.get("csrf_token"))
        fields = parse_fields({name: value for name, value in items if isinstance(value, str)})
        files = [
            UploadedFile(value.filename or "upload", value.file)
            for name, value in items
            if name == "file" and isinstance(value, UploadFile)
        ]
        recording_id = await state.service.submit(files, fields)
    await keep_owner(state.engine, recording_id, principal.key)
    body: dict[str, Any] = {"recording_id": recording_id, "status": "queued"}
    return JSONResponse(body, status_code=202, headers={"Location": f"/api/recordings/{recording_id}"})


@router.get("/api/recordings/{recording_id}")
async def read_recording_result(recording: ReadableRecording = Depends(_RESULT)) -> JSONResponse:
    """``{"status": "pending"}`` until the worker has stored the diagnosis, then the diagnosis.

    Only the principal that uploaded the recording, or one with results:read:all, may read it;
    everyone else gets the same 404 as for an id that does not exist."""
    if recording.view is None:
        return JSONResponse(pending_json(recording.recording_id), headers={"Cache-Control": "no-store"})
    overread = await recording.latest_overread()
    return JSONResponse(diagnosis_json(recording.view, overread), headers={"Cache-Control": "no-store"})
