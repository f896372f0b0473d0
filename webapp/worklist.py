"""The overread worklist: ``GET /worklist`` (the page) and ``GET /api/worklist`` (the list).

Diagnosed recordings no physician has read yet (``storage.worklist``), recordings with a critical
finding first (``interpretation.critical`` on the stored statements and measurements), then the
oldest first, so the longest-waiting ECG of each kind comes next. Paginated like ``/api/recordings``
(``page`` 1-10000, ``page_size`` 1-100, ``has_more``). Needs the scope results:confirm; a principal
without results:read:all sees only its own uploads.

Ranking reads every unread recording's statements and the few measurements the critical rules use
(streamed, never the whole JSON), so a new critical ECG is first however long the list is; the page's
rows are then read in one query.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncEngine

from interpretation.critical import MEASUREMENT_KEYS, critical_findings
from interpretation.verdict import headline_verdict
from storage import DatabaseUnavailable, DiagnosisView
from storage.worklist import unconfirmed_keys, worklist_views
from webapp.auth import RESULTS_CONFIRM, Principal, authenticate, csrf_token, require_scope, visible_owner
from webapp.errors import FieldError, GatewayError
from webapp.listing import parse_list_request
from webapp.page import render_worklist

__all__ = ["worklist_router", "ranked_worklist", "WORKLIST_PARAMETERS"]

worklist_router = APIRouter()
WORKLIST_PARAMETERS = ("page", "page_size")
_PRIVATE = {"Cache-Control": "no-store"}


async def ranked_worklist(engine: AsyncEngine, owner: str | None) -> list[tuple[bool, datetime, str]]:
    """``(critical, received_at, recording_id)`` of every unread recording, in worklist order."""
    ranked = []
    async for key in unconfirmed_keys(engine, owner=owner, measurement_keys=MEASUREMENT_KEYS):
        critical = bool(critical_findings(key.statements, key.measurements))
        ranked.append((critical, key.received_at, key.recording_id))
    ranked.sort(key=lambda item: (not item[0], item[1], item[2]))
    return ranked


def _item_json(view: DiagnosisView, received_at: datetime) -> dict[str, Any]:
    verdict = headline_verdict(view.statements, readable=view.readable,
                               unreadable_reasons=view.unreadable_reasons or (), quality=view.quality)  # fmt: skip
    return {
        "recording_id": view.recording_id,
        "received_at": received_at.isoformat(),
        "diagnosed_at": view.diagnosed_at.isoformat(),
        "verdict": verdict.text,
        "status": verdict.kind,
        "critical_findings": [f.as_json() for f in critical_findings(view.statements, view.measurements)],
        "statements": [{"code": int(s["code"]), "name": str(s.get("description") or "")} for s in view.statements],
        "result_url": f"/?recording={view.recording_id}",
        "api_url": f"/api/recordings/{view.recording_id}",
    }


@worklist_router.get("/worklist", response_class=HTMLResponse, include_in_schema=False)
async def worklist_page(request: Request) -> Response:
    principal = await authenticate(request)
    if principal is None:
        return RedirectResponse("/login", status_code=303)
    page = render_worklist(csrf_token=csrf_token(request.app.state.auth, principal), user=principal.name,
                           can_confirm=principal.confirms)  # fmt: skip
    return HTMLResponse(page, headers=_PRIVATE)


@worklist_router.get("/api/worklist")
async def worklist(request: Request, principal: Principal = Depends(require_scope(RESULTS_CONFIRM))) -> JSONResponse:
    """One page of unread recordings, critical findings first, then oldest first."""
    params: dict[str, Any] = {}
    for name, value in request.query_params.multi_items():
        if name not in WORKLIST_PARAMETERS:
            raise FieldError(name[:40], f"unknown parameter {name[:40]!r}; use {', '.join(WORKLIST_PARAMETERS)}")
        if name in params:
            raise FieldError(name, f"{name} is given more than once")
        params[name] = value
    listing = parse_list_request(params)
    engine = request.app.state.gateway.engine
    try:
        ranked = await ranked_worklist(engine, visible_owner(principal))
        start = (listing.page - 1) * listing.page_size
        chosen = ranked[start : start + listing.page_size]
        views = await worklist_views(engine, [rid for _, _, rid in chosen])
    except DatabaseUnavailable as exc:
        raise GatewayError(503, "database_unavailable", "the results database is unavailable") from exc
    items = [_item_json(views[rid], received) for _, received, rid in chosen if rid in views]
    body = {"items": items, "page": listing.page, "page_size": listing.page_size,
            "has_more": len(ranked) > start + listing.page_size, "total": len(ranked)}  # fmt: skip
    return JSONResponse(body, headers=_PRIVATE)
