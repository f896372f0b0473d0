"""The clinician's views of one recording: the tracing (SVG) and the PDF report.

Both are authorised exactly like the result (``GET /api/recordings/{id}``): the uploader, or a
principal with results:read:all; everyone else gets the same 404 as for an unknown id. The
samples come from what the gateway kept at upload (``storage.tracings``): a recording that
reached the worker by another path has no tracing here (404 ``no_tracing``).

Beat marks are the worker's own measurement (``measurements.measure``) re-run on the kept
samples, and only where the stored diagnosis has measurements; the stored diagnosis keeps beat
counts, not positions. matplotlib is not documented thread-safe, so renders run one at a time in
their own thread (``_RENDERER``), apart from the thread pool that reads uploads. At most
RENDER_MAX_PENDING renders wait or run at once, and RENDER_MAX_PER_PRINCIPAL of one credential
(``webapp.admission``): beyond that 503 / 429 with ``Retry-After`` at once, so a burst of report
downloads cannot queue without end or starve other people's uploads.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from schemas.recording import Recording
from storage import DatabaseUnavailable, DiagnosisView, get_diagnosis
from storage.tracings import StoredTracing, load_tracing, store_tracing
from webapp.auth import RECORDINGS_READ, RESULTS_READ_ALL, Principal, authorize_read, require_scope
from webapp.errors import GatewayError
from webapp.report import build_report
from webapp.routes import RECORDING_ID
from webapp.tracing import BeatMarks, render_tracing_png, render_tracing_svg

__all__ = ["clinic_router", "keep_tracing", "tracing_inputs"]

logger = logging.getLogger(__name__)
clinic_router = APIRouter()
_RENDERER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="render")  # one render at a time
_PRIVATE = {"Cache-Control": "no-store"}
_T = TypeVar("_T")


async def _rendered(render: Callable[..., _T], *args: Any) -> _T:
    return await asyncio.get_running_loop().run_in_executor(_RENDERER, render, *args)


async def keep_tracing(engine: Any, rec: Recording) -> None:
    """Keep an accepted upload's samples (no demographics, no reference); a failure only loses the
    tracing, never the upload, so it is logged and swallowed."""
    try:
        await store_tracing(engine, rec.recording_id, rec.signal, rec.fs, tuple(rec.leads))
    except (DatabaseUnavailable, ValueError) as exc:
        logger.warning("tracing not kept", extra={"recording_id": rec.recording_id, "error": type(exc).__name__})


def tracing_inputs(tracing: StoredTracing, view: DiagnosisView | None) -> dict[str, Any]:
    """Beat marks (measured on the kept samples when the diagnosis has measurements) and the leads
    the quality gate judged unreadable. Blocking (measurement): call in a thread."""
    from measurements.measure import measure

    beats = None
    if view is not None and view.measurements is not None and view.readable:
        measured = measure(tracing.signal, tracing.fs)
        beats = BeatMarks(measured.beats.r_peaks.tolist(), tuple(measured.beats.classes))
    quality = (view.quality if view is not None else None) or {}
    unreadable = {str(q["lead"]) for q in quality.get("leads") or [] if q.get("verdict") == "unreadable"}
    return {"beats": beats, "unreadable_leads": unreadable}


async def _load(request: Request, principal: Principal, recording_id: str) -> tuple[StoredTracing, DiagnosisView | None]:
    if not RECORDING_ID.match(recording_id):
        raise GatewayError(404, "unknown_recording", "no such recording")
    engine = request.app.state.gateway.engine
    try:
        owner = await authorize_read(request, principal, recording_id)
        view = await get_diagnosis(engine, recording_id)
        tracing = await load_tracing(engine, recording_id)
    except DatabaseUnavailable as exc:
        raise GatewayError(503, "database_unavailable", "the results database is unavailable") from exc
    if owner is None and view is None:
        raise GatewayError(404, "unknown_recording", "no such recording")
    if tracing is None:
        raise GatewayError(404, "no_tracing", "no samples were kept for this recording (not uploaded here)")
    return tracing, view


def _svg(tracing: StoredTracing, view: DiagnosisView | None) -> bytes:
    options = tracing_inputs(tracing, view)
    return render_tracing_svg(tracing.signal, tracing.fs, tracing.leads, **options)


def _pdf(tracing: StoredTracing, view: DiagnosisView) -> bytes:
    options = tracing_inputs(tracing, view)
    png = render_tracing_png(tracing.signal, tracing.fs, tracing.leads, dpi=200, **options)
    return build_report(view, png)


@clinic_router.get("/api/recordings/{recording_id}/tracing.svg")
async def read_tracing(
    recording_id: str, request: Request, principal: Principal = Depends(require_scope(RECORDINGS_READ, RESULTS_READ_ALL))
) -> Response:
    """The 12-lead tracing as SVG (webapp.tracing), also while the diagnosis is pending."""
    with request.app.state.renders.enter(principal.key):
        tracing, view = await _load(request, principal, recording_id)
        svg = await _rendered(_svg, tracing, view)
    return Response(svg, media_type="image/svg+xml", headers=_PRIVATE)


@clinic_router.get("/api/recordings/{recording_id}/report.pdf")
async def read_report(
    recording_id: str, request: Request, principal: Principal = Depends(require_scope(RECORDINGS_READ, RESULTS_READ_ALL))
) -> Response:
    """The PDF report (webapp.report); 409 ``pending`` until the diagnosis is stored."""
    with request.app.state.renders.enter(principal.key):
        tracing, view = await _load(request, principal, recording_id)
        if view is None:
            raise GatewayError(409, "pending", "the recording has not been diagnosed yet")
        pdf = await _rendered(_pdf, tracing, view)
    headers = {**_PRIVATE, "Content-Disposition": f'attachment; filename="ecg-report-{recording_id}.pdf"'}
    return Response(pdf, media_type="application/pdf", headers=headers)
