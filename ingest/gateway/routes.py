"""HTTP routes: the upload page, the JSON API and the health check."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.datastructures import UploadFile
from starlette.types import Message, Receive

from ingest.gateway.errors import GatewayError, UploadTimeout, UploadTooLarge
from ingest.gateway.fields import parse_fields
from ingest.gateway.page import render_index
from ingest.gateway.results import diagnosis_json, pending_json
from ingest.gateway.service import UploadedFile
from ingest.gateway.state import GatewayState
from storage import DatabaseUnavailable, get_diagnosis

__all__ = ["router"]

logger = logging.getLogger(__name__)

router = APIRouter()
MAX_FILES = 2  # one file, or a WFDB header and its signal file
_RECORDING_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _state(request: Request) -> GatewayState:
    state: GatewayState = request.app.state.gateway
    return state


def _limited(receive: Receive, state: GatewayState) -> Receive:
    """``receive`` bounded in size and time.

    Raises ``UploadTooLarge`` (quoting the upload limit) once the body exceeds ``max_body_bytes``
    (the upload limit plus the multipart overhead), and ``UploadTimeout`` when the whole body has not
    arrived within ``upload_body_timeout_seconds`` (slow senders hold a connection and a buffer).
    """
    seen = 0
    seconds = state.settings.upload_body_timeout_seconds
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds

    async def wrapped() -> Message:
        nonlocal seen
        try:
            message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
        except TimeoutError:
            raise UploadTimeout(seconds) from None
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
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > state.max_body_bytes:
        raise UploadTooLarge(state.max_upload_bytes)


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def index(request: Request) -> HTMLResponse:
    return HTMLResponse(render_index(_state(request).max_upload_bytes))


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


@router.post("/api/recordings", status_code=202)
async def create_recording(request: Request) -> JSONResponse:
    """Multipart ``file`` (once, or twice for WFDB) + age, sex, height_cm, weight_kg
    [+ patient_ref, device_id] -> 202 ``{"recording_id", "status": "queued"}``."""
    state = _state(request)
    _check_headers(request, state)
    limited = Request(request.scope, _limited(request.receive, state))
    async with limited.form(max_files=MAX_FILES, max_fields=16) as form:
        items = form.multi_items()
        fields = parse_fields({name: value for name, value in items if isinstance(value, str)})
        files = [
            UploadedFile(value.filename or "upload", value.file)
            for name, value in items
            if name == "file" and isinstance(value, UploadFile)
        ]
        recording_id = await state.service.submit(files, fields)
    body: dict[str, Any] = {"recording_id": recording_id, "status": "queued"}
    return JSONResponse(body, status_code=202, headers={"Location": f"/api/recordings/{recording_id}"})


@router.get("/api/recordings/{recording_id}")
async def read_recording_result(recording_id: str, request: Request) -> JSONResponse:
    """``{"status": "pending"}`` until the worker has stored the diagnosis, then the diagnosis."""
    if not _RECORDING_ID.match(recording_id):
        raise GatewayError(404, "unknown_recording", "no such recording")
    try:
        view = await get_diagnosis(_state(request).engine, recording_id)
    except DatabaseUnavailable as exc:
        logger.warning("results database unavailable", extra={"error": type(exc).__name__})
        raise GatewayError(
            503, "database_unavailable", "the results database is unavailable; the page keeps trying"
        ) from exc
    if view is None:
        return JSONResponse(pending_json(recording_id), headers={"Cache-Control": "no-store"})
    return JSONResponse(diagnosis_json(view), headers={"Cache-Control": "no-store"})
