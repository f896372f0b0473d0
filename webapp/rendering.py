"""The tracing (SVG) and the PDF report of one recording, rendered from the samples kept at upload.

Beat marks are the worker's own: the beat positions it stored with the diagnosis
(``schemas.beat_positions.BeatPositions``), shown only where the diagnosis has measurements. Rows
stored before the worker kept them (revision 0009), or beats at another rate than the kept samples,
fall back to measuring the kept samples (``measurements.measure``) as the gateway did before. Both
views show the samples through the display filter (``tracing.display_band``, 0.5-150 Hz), printed
beside speed and gain.

matplotlib is not documented thread-safe, so renders run one at a time in their own thread
(``rendered``), apart from the thread pool that reads uploads; how many may wait is bounded by the
routes (``webapp.clinic``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np

from schemas.beat_positions import BeatPositions
from storage import DiagnosisView
from storage.tracings import StoredTracing
from webapp.report import ReportContext, build_report
from webapp.tracing import BeatMarks, display_band, render_tracing_png, render_tracing_svg, tracing_layout

__all__ = ["rendered", "tracing_inputs", "tracing_svg", "report_pdf", "Measure"]

_RENDERER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="render")  # one render at a time
_T = TypeVar("_T")
Measure = Callable[[np.ndarray, float], Any]  # measurements.measure.measure: (signal, fs) -> Measurements


async def rendered(render: Callable[..., _T], *args: Any) -> _T:
    """``render(*args)`` in the one render thread."""
    return await asyncio.get_running_loop().run_in_executor(_RENDERER, render, *args)


def _measure(signal: np.ndarray, fs: float) -> Any:
    from measurements.measure import measure

    return measure(signal, fs)


def _beats(tracing: StoredTracing, view: DiagnosisView, measure: Measure) -> BeatMarks:
    if view.beats is not None:
        stored = BeatPositions.from_record(view.beats)
        if stored.fs == tracing.fs:
            return BeatMarks(stored.r_peaks, tuple(stored.classes))
    measured = measure(tracing.signal, tracing.fs)  # a row from before revision 0009
    return BeatMarks(measured.beats.r_peaks.tolist(), tuple(measured.beats.classes))


def tracing_inputs(
    tracing: StoredTracing, view: DiagnosisView | None, measure: Measure = _measure
) -> dict[str, Any]:
    """Beat marks (when the diagnosis has measurements: the stored beats, else ``measure`` of the kept
    samples) and the leads the quality gate judged unreadable. Measuring blocks: call in a thread."""
    beats = None
    if view is not None and view.measurements is not None and view.readable:
        beats = _beats(tracing, view, measure)
    quality = (view.quality if view is not None else None) or {}
    unreadable = {str(q["lead"]) for q in quality.get("leads") or [] if q.get("verdict") == "unreadable"}
    return {"beats": beats, "unreadable_leads": unreadable}


def tracing_svg(tracing: StoredTracing, view: DiagnosisView | None, measure: Measure = _measure) -> bytes:
    """The 12-lead tracing as SVG (``webapp.tracing``); blocking."""
    options = tracing_inputs(tracing, view, measure)
    shown, band = display_band(tracing.signal, tracing.fs)
    return render_tracing_svg(shown, tracing.fs, tracing.leads, filter_label=band, **options)


def report_pdf(
    tracing: StoredTracing, view: DiagnosisView, context: ReportContext, measure: Measure = _measure
) -> bytes:
    """The PDF report (``webapp.report``) with the tracing at print resolution; blocking."""
    options = tracing_inputs(tracing, view, measure)
    shown, band = display_band(tracing.signal, tracing.fs)
    gain = tracing_layout(shown, tracing.fs, tracing.leads).gain_mm_per_mv
    png = render_tracing_png(shown, tracing.fs, tracing.leads, dpi=200, filter_label=band, **options)
    return build_report(
        view, png, context=ReportContext(**{**context.__dict__, "gain_mm_per_mv": gain, "filter_label": band})
    )
