"""Serial comparison: ``GET /api/recordings/{id}/comparison``, what changed since the same patient's
earlier recording (``webapp.serial_view``); the earlier one is found by ``storage.history``. A
principal without results:read:all compares only with recordings it uploaded itself."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from webapp.errors import GatewayError
from webapp.readable import ReadableRecording, readable_recording
from webapp.serial_view import comparison_json

__all__ = ["comparison_router"]

comparison_router = APIRouter()
_PRIVATE = {"Cache-Control": "no-store"}


@comparison_router.get("/api/recordings/{recording_id}/comparison")
async def comparison(recording: ReadableRecording = Depends(readable_recording())) -> JSONResponse:
    """The serial comparison (interpretation.serial) with the same patient's earlier recording that
    the caller may read; 404 ``no_earlier_recording`` when there is none, 409 while pending."""
    current = recording.diagnosed()
    previous = await recording.previous()
    if previous is None:
        raise GatewayError(404, "no_earlier_recording", "no earlier recording of this patient")
    return JSONResponse(comparison_json(current, previous), headers=_PRIVATE)
