"""The clinician's views of one recording: the tracing (SVG) and the PDF report fit for a chart.

Both are authorised exactly like the result (``webapp.readable``): the uploader, or a principal with
results:read:all; everyone else gets the same 404 as for an unknown id. The samples come from what
the gateway kept at upload (``webapp.keeping``, ``storage.tracings``): a recording that reached the
worker by another path has no tracing here (404 ``no_tracing``). What is drawn and printed is
``webapp.rendering`` and ``webapp.report_inputs``.

Renders are bounded (``render_slot``, taken before anything is read): at most RENDER_MAX_PENDING wait
or run at once, and RENDER_MAX_PER_PRINCIPAL of one credential (``webapp.admission``); beyond that
503 / 429 with ``Retry-After`` at once, so a burst of report downloads cannot queue without end or
starve other people's uploads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from webapp.auth import Principal
from webapp.readable import READ_RESULTS, ReadableRecording, readable_recording
from webapp.rendering import rendered, report_pdf, tracing_svg
from webapp.report_inputs import report_context

__all__ = ["clinic_router", "render_slot"]

clinic_router = APIRouter()
_PRIVATE = {"Cache-Control": "no-store"}
_READABLE = readable_recording()


async def render_slot(request: Request, principal: Principal = Depends(READ_RESULTS)) -> AsyncIterator[None]:
    """A dependency: one place among the renders for the request (429 / 503 ``Busy`` when none)."""
    with request.app.state.renders.enter(principal.key):
        yield


@clinic_router.get("/api/recordings/{recording_id}/tracing.svg", dependencies=[Depends(render_slot)])
async def read_tracing(recording: ReadableRecording = Depends(_READABLE)) -> Response:
    """The 12-lead tracing as SVG (webapp.tracing), also while the diagnosis is pending."""
    tracing = await recording.tracing()
    svg = await rendered(tracing_svg, tracing, recording.view)
    return Response(svg, media_type="image/svg+xml", headers=_PRIVATE)


@clinic_router.get("/api/recordings/{recording_id}/report.pdf", dependencies=[Depends(render_slot)])
async def read_report(request: Request, recording: ReadableRecording = Depends(_READABLE)) -> Response:
    """The PDF report (webapp.report); 409 ``pending`` until the diagnosis is stored."""
    tracing = await recording.tracing()
    view = recording.diagnosed()
    context = await report_context(recording, request.app.state.gateway.settings)
    pdf = await rendered(report_pdf, tracing, view, context)
    disposition = f'attachment; filename="ecg-report-{recording.recording_id}.pdf"'
    return Response(
        pdf, media_type="application/pdf", headers={**_PRIVATE, "Content-Disposition": disposition}
    )
