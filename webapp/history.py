"""The history: ``GET /history`` (the page), ``GET /api/recordings`` (the list) and
``POST /api/patients/history`` (one patient's recordings); the comparison is ``webapp.comparison``.

Authorisation as for results: a principal with results:read:all sees every recording, any other
(recordings:read) only its own uploads (``visible_owner``).
The patient reference travels only in a POST body (never a URL, so never an access log line), is
turned into the storage's keyed hash (``PATIENT_HMAC_SECRET``) at once, and is neither stored,
logged nor answered.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from storage import DatabaseUnavailable, hash_patient_ref
from storage.history import HistoryFilter, HistoryPage, list_history
from webapp.auth import (
    RECORDINGS_READ,
    RESULTS_READ_ALL,
    Principal,
    authenticate,
    check_csrf,
    csrf_token,
    require_scope,
    visible_owner,
)
from webapp.body import read_json_object
from webapp.errors import FieldError, GatewayError
from webapp.listing import ListRequest, page_json, parse_list_request
from webapp.page import render_history

__all__ = ["history_router", "MAX_PATIENT_BODY_BYTES"]

logger = logging.getLogger(__name__)
history_router = APIRouter()
MAX_PATIENT_BODY_BYTES = 4096
MAX_PATIENT_REF = 128
_PRIVATE = {"Cache-Control": "no-store"}
_READ = require_scope(RECORDINGS_READ, RESULTS_READ_ALL)


@history_router.get("/history", response_class=HTMLResponse, include_in_schema=False)
async def history_page(request: Request) -> Response:
    principal = await authenticate(request)
    if principal is None:
        return RedirectResponse("/login", status_code=303)
    page = render_history(csrf_token=csrf_token(request.app.state.auth, principal), user=principal.name,
                          can_confirm=principal.confirms)
    return HTMLResponse(page, headers=_PRIVATE)


async def _page(request: Request, listing: ListRequest, flt: HistoryFilter) -> HistoryPage:
    try:
        return await list_history(request.app.state.gateway.engine, flt, page=listing.page, page_size=listing.page_size)
    except DatabaseUnavailable as exc:
        raise GatewayError(503, "database_unavailable", "the results database is unavailable") from exc


@history_router.get("/api/recordings")
async def list_recordings(request: Request, principal: Principal = Depends(_READ)) -> JSONResponse:
    """Recordings newest first, filtered (webapp.listing), one page; only the caller's own
    unless it has results:read:all."""
    params: dict[str, Any] = {}
    for name, value in request.query_params.multi_items():
        if name in params:
            raise FieldError(name, f"{name[:40]} is given more than once")
        params[name] = value
    listing = parse_list_request(params)
    flt = replace(listing.filter, owner=visible_owner(principal))
    return JSONResponse(page_json(await _page(request, listing, flt)), headers=_PRIVATE)


@history_router.post("/api/patients/history")
async def patient_history(request: Request, principal: Principal = Depends(_READ)) -> JSONResponse:
    """JSON ``{"patient_ref": ..., [filters, page, page_size]}`` -> that patient's recordings (diagnosed
    ones: only the worker stores the hash), newest first; the reference is only ever hashed."""
    body = await read_json_object(request, MAX_PATIENT_BODY_BYTES, "the patient reference", flat=True)
    check_csrf(request, principal, body.pop("csrf_token", None))
    reference = body.pop("patient_ref", None)
    if not isinstance(reference, str) or not reference.strip():
        raise FieldError("patient_ref", "enter the patient reference")
    if len(reference.strip()) > MAX_PATIENT_REF:
        raise FieldError("patient_ref", f"the patient reference is longer than {MAX_PATIENT_REF} characters")
    listing = parse_list_request(body)
    secret = request.app.state.gateway.settings.patient_hmac_secret
    flt = replace(listing.filter, owner=visible_owner(principal), patient_ref_hash=hash_patient_ref(reference.strip(), secret))
    page = await _page(request, listing, flt)
    logger.info("patient history read", extra={"principal": principal.key, "rows": len(page.rows)})
    return JSONResponse(page_json(page), headers=_PRIVATE)
