"""The overread worklist: ``GET /worklist`` (the page) and ``GET /api/worklist`` (the list).

Diagnosed recordings no physician has read yet (``storage.worklist``), recordings with a critical
finding first, then the oldest first, so the longest-waiting ECG of each kind comes next
(``webapp.worklist_view``). Paginated like ``/api/recordings`` (``page`` 1-10000, ``page_size``
1-100, ``has_more``). Needs the scope results:confirm; a principal without results:read:all sees
only its own uploads.

Ranking reads every unread recording's stored critical findings (older rows: its statements and the
few measurements the critical rules use; streamed, never the whole JSON), so a new critical ECG is
first however long the list is; the page's rows are then read in one query.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from storage import DatabaseUnavailable
from webapp.auth import RESULTS_CONFIRM, Principal, authenticate, csrf_token, require_scope, visible_owner
from webapp.errors import FieldError, GatewayError
from webapp.listing import parse_list_request
from webapp.page import render_worklist
from webapp.worklist_view import worklist_json

__all__ = ["worklist_router", "WORKLIST_PARAMETERS"]

worklist_router = APIRouter()
WORKLIST_PARAMETERS = ("page", "page_size")
_PRIVATE = {"Cache-Control": "no-store"}


@worklist_router.get("/worklist", response_class=HTMLResponse, include_in_schema=False)
async def worklist_page(request: Request) -> Response:
    principal = await authenticate(request)
    if principal is None:
        return RedirectResponse("/login", status_code=303)
    page = render_worklist(csrf_token=csrf_token(request.app.state.auth, principal), user=principal.name,
                           can_confirm=principal.confirms)  # fmt: skip
    return HTMLResponse(page, headers=_PRIVATE)


@worklist_router.get("/api/worklist")
async def worklist(
    request: Request, principal: Principal = Depends(require_scope(RESULTS_CONFIRM))
) -> JSONResponse:
    """One page of unread recordings, critical findings first, then oldest first."""
    params: dict[str, Any] = {}
    for name, value in request.query_params.multi_items():
        if name not in WORKLIST_PARAMETERS:
            raise FieldError(
                name[:40], f"unknown parameter {name[:40]!r}; use {', '.join(WORKLIST_PARAMETERS)}"
            )
        if name in params:
            raise FieldError(name, f"{name} is given more than once")
        params[name] = value
    listing = parse_list_request(params)
    try:
        body = await worklist_json(request.app.state.gateway.engine, visible_owner(principal), listing)
    except DatabaseUnavailable as exc:
        raise GatewayError(503, "database_unavailable", "the results database is unavailable") from exc
    return JSONResponse(body, headers=_PRIVATE)
