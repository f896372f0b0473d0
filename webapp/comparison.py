"""Serial comparison: ``GET /api/recordings/{id}/comparison``, what changed since the same patient's
earlier recording (``interpretation.serial``); the earlier one is found by ``storage.history``. A
principal without results:read:all compares only with recordings it uploaded itself."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from interpretation.serial import compare_serial
from interpretation.verdict import headline_verdict
from storage import DatabaseUnavailable, DiagnosisView, get_diagnosis
from storage.history import previous_diagnosis
from webapp.auth import (
    RECORDINGS_READ,
    RESULTS_READ_ALL,
    Principal,
    authorize_read,
    require_scope,
    visible_owner,
)
from webapp.errors import GatewayError
from webapp.routes import RECORDING_ID

__all__ = ["comparison_router"]

comparison_router = APIRouter()
_PRIVATE = {"Cache-Control": "no-store"}


def _side(view: DiagnosisView) -> dict[str, Any]:
    verdict = headline_verdict(view.statements, readable=view.readable,
                               unreadable_reasons=view.unreadable_reasons or (), quality=view.quality)  # fmt: skip
    return {
        "recording_id": view.recording_id,
        "acquired_at": None if view.acquired_at is None else view.acquired_at.isoformat(),
        "ingested_at": None if view.ingested_at is None else view.ingested_at.isoformat(),
        "diagnosed_at": view.diagnosed_at.isoformat(),
        "verdict": verdict.text,
        "tracing_url": f"/api/recordings/{view.recording_id}/tracing.svg",
        "result_url": f"/?recording={view.recording_id}",
    }


@comparison_router.get("/api/recordings/{recording_id}/comparison")
async def comparison(
    recording_id: str, request: Request, principal: Principal = Depends(require_scope(RECORDINGS_READ, RESULTS_READ_ALL))
) -> JSONResponse:
    """The serial comparison (interpretation.serial) with the same patient's earlier recording that
    the caller may read; 404 ``no_earlier_recording`` when there is none, 409 while pending."""
    if not RECORDING_ID.match(recording_id):
        raise GatewayError(404, "unknown_recording", "no such recording")
    engine = request.app.state.gateway.engine
    try:
        owner = await authorize_read(request, principal, recording_id)
        current = await get_diagnosis(engine, recording_id)
        if current is None:
            if owner is None:
                raise GatewayError(404, "unknown_recording", "no such recording")
            raise GatewayError(409, "pending", "the recording has not been diagnosed yet")
        previous = await previous_diagnosis(engine, recording_id, owner=visible_owner(principal))
    except DatabaseUnavailable as exc:
        raise GatewayError(503, "database_unavailable", "the results database is unavailable") from exc
    if previous is None:
        raise GatewayError(404, "no_earlier_recording", "no earlier recording of this patient")
    changes = compare_serial(previous.statements, current.statements, previous.measurements, current.measurements)
    body = {"recording_id": recording_id, "current": _side(current), "previous": _side(previous), **changes.as_json()}
    return JSONResponse(body, headers=_PRIVATE)
