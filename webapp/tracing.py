"""The 12-lead tracing on ECG paper, rendered with matplotlib (Agg/SVG canvases, no GUI, no pyplot).

Pure: arrays in, SVG or PNG bytes out. Layout (standard 3 x 4 + rhythm strip), in paper millimetres:

- rows I/aVR/V1/V4, II/aVL/V2/V5, III/aVF/V3/V6 of 2.5 s per column, then a 10-s lead II strip;
- 25 mm/s and 10 mm/mV; a 1-mV, 0.2-s calibration pulse at the start of every row;
- a 1-mm minor and 5-mm major grid;
- with beats (the worker's own measurement of the same samples): every beat marked on the rhythm
  strip, premature beats (S, V) highlighted in red with their class;
- leads judged unreadable by the quality gate hatched in red and labelled "unreadable".

SVG groups carry ids a reader or a test can find: ``trace-<lead>`` (13, the rhythm strip is
``trace-II-rhythm``), ``grid-minor``, ``grid-major``, ``calibration-<row>``, ``beats``,
``premature-beats``, ``unreadable-<lead>``.
"""

from __future__ import annotations

import io
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

__all__ = ["BeatMarks", "LAYOUT", "PAPER_HEIGHT_MM", "PAPER_WIDTH_MM", "render_tracing_png", "render_tracing_svg"]

PAPER_SPEED_MM_PER_S = 25.0
GAIN_MM_PER_MV = 10.0
COLUMN_SECONDS = 2.5
RHYTHM_SECONDS = 10.0
ROW_MM = 30.0
LEFT_MM = 10.0  # room for the calibration pulse
LAYOUT: tuple[tuple[str, ...], ...] = (("I", "aVR", "V1", "V4"), ("II", "aVL", "V2", "V5"), ("III", "aVF", "V3", "V6"))
RHYTHM_LEAD = "II"
PREMATURE = ("S", "V")
_MM_PER_INCH = 25.4
PAPER_WIDTH_MM = LEFT_MM + RHYTHM_SECONDS * PAPER_SPEED_MM_PER_S + 2.0
PAPER_HEIGHT_MM = ROW_MM * (len(LAYOUT) + 1) + 4.0
_TRACE, _MINOR, _MAJOR, _ALERT = "#111111", "#f6c9c9", "#e48a8a", "#b91c1c"


@dataclass(frozen=True)
class BeatMarks:
    """R-peak sample indices (at the tracing's ``fs``) and one class per beat (N, S, V, Q)."""

    r_peaks: Sequence[int]
    classes: Sequence[str]


def _baseline(row: int) -> float:
    """The zero-mV line of ``row`` (0 = top), in mm from the bottom of the paper."""
    return PAPER_HEIGHT_MM - 2.0 - ROW_MM * (row + 0.5)


def _grid(ax: Axes) -> None:
    for step, colour, width, gid in ((1.0, _MINOR, 0.3, "grid-minor"), (5.0, _MAJOR, 0.6, "grid-major")):
        xs = np.arange(0.0, PAPER_WIDTH_MM + 1e-6, step)
        ys = np.arange(0.0, PAPER_HEIGHT_MM + 1e-6, step)
        segments = [((x, 0.0), (x, PAPER_HEIGHT_MM)) for x in xs] + [((0.0, y), (PAPER_WIDTH_MM, y)) for y in ys]
        ax.add_collection(LineCollection(segments, colors=colour, linewidths=width, gid=gid, zorder=0))


def _calibration(ax: Axes, row: int) -> None:
    base, x0 = _baseline(row), 2.0
    width, height = 0.2 * PAPER_SPEED_MM_PER_S, 1.0 * GAIN_MM_PER_MV
    xs = [0.5, x0, x0, x0 + width, x0 + width, LEFT_MM - 0.5]
    ys = [base, base, base + height, base + height, base, base]
    ax.plot(xs, ys, color=_TRACE, linewidth=0.8, gid=f"calibration-{row}")


def _trace(ax: Axes, samples: np.ndarray, fs: float, x0_mm: float, row: int, gid: str) -> None:
    t = np.arange(samples.size) / fs
    x = x0_mm + t * PAPER_SPEED_MM_PER_S
    ax.plot(x, _baseline(row) + samples * GAIN_MM_PER_MV, color=_TRACE, linewidth=0.6, gid=gid)


def _label(ax: Axes, lead: str, x_mm: float, row: int, unreadable: bool) -> None:
    text = f"{lead} (unreadable)" if unreadable else lead
    ax.text(x_mm + 1.0, _baseline(row) + ROW_MM * 0.36, text, fontsize=7,
            color=_ALERT if unreadable else _TRACE, fontweight="bold" if unreadable else "normal")  # fmt: skip


def _mark_unreadable(ax: Axes, lead: str, x_mm: float, row: int, width_mm: float) -> None:
    bottom = _baseline(row) - ROW_MM / 2
    ax.add_patch(Rectangle((x_mm, bottom), width_mm, ROW_MM, facecolor=_ALERT, alpha=0.10, hatch="///",
                           edgecolor=_ALERT, linewidth=0.8, gid=f"unreadable-{lead}", zorder=1))  # fmt: skip


def _beats(ax: Axes, beats: BeatMarks, fs: float, row: int, duration_s: float) -> None:
    top = _baseline(row) + ROW_MM * 0.3
    normal_x, premature = [], []
    for peak, kind in zip(beats.r_peaks, beats.classes, strict=False):
        t = peak / fs
        if t > duration_s:
            break
        x = LEFT_MM + t * PAPER_SPEED_MM_PER_S
        (premature.append((x, kind)) if kind in PREMATURE else normal_x.append(x))
    ax.plot(normal_x, [top] * len(normal_x), linestyle="none", marker="v", markersize=3, color="#1d4ed8", gid="beats")
    xs = [x for x, _ in premature]
    ax.plot(xs, [top] * len(xs), linestyle="none", marker="v", markersize=5, color=_ALERT, gid="premature-beats")
    for x, kind in premature:
        ax.text(x, top + 1.5, kind, fontsize=7, color=_ALERT, ha="center", fontweight="bold")


def _figure(
    signal: np.ndarray,
    fs: float,
    leads: Sequence[str],
    beats: BeatMarks | None,
    unreadable_leads: Collection[str],
) -> Figure:
    """The paper as a figure sized in millimetres (1 data unit = 1 mm)."""
    if signal.ndim != 2 or signal.shape[0] != len(leads) or fs <= 0:
        raise ValueError(f"signal of shape {signal.shape} at {fs} Hz does not match {len(leads)} leads")
    fig = Figure(figsize=(PAPER_WIDTH_MM / _MM_PER_INCH, PAPER_HEIGHT_MM / _MM_PER_INCH))
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(0.0, PAPER_WIDTH_MM)
    ax.set_ylim(0.0, PAPER_HEIGHT_MM)
    ax.set_axis_off()
    _grid(ax)
    index = {name: i for i, name in enumerate(leads)}
    column = int(round(COLUMN_SECONDS * fs))
    clean = np.nan_to_num(signal.astype(np.float64))
    for row, names in enumerate(LAYOUT):
        _calibration(ax, row)
        for col, lead in enumerate(names):
            x0 = LEFT_MM + col * COLUMN_SECONDS * PAPER_SPEED_MM_PER_S
            if lead in unreadable_leads:
                _mark_unreadable(ax, lead, x0, row, COLUMN_SECONDS * PAPER_SPEED_MM_PER_S)
            if lead in index:
                _trace(ax, clean[index[lead], col * column : (col + 1) * column], fs, x0, row, f"trace-{lead}")
            _label(ax, lead, x0, row, lead in unreadable_leads)
    rhythm_row = len(LAYOUT)
    _calibration(ax, rhythm_row)
    rhythm = int(round(RHYTHM_SECONDS * fs))
    if RHYTHM_LEAD in unreadable_leads:
        _mark_unreadable(ax, f"{RHYTHM_LEAD}-rhythm", LEFT_MM, rhythm_row, RHYTHM_SECONDS * PAPER_SPEED_MM_PER_S)
    if RHYTHM_LEAD in index:
        _trace(ax, clean[index[RHYTHM_LEAD], :rhythm], fs, LEFT_MM, rhythm_row, f"trace-{RHYTHM_LEAD}-rhythm")
    _label(ax, f"{RHYTHM_LEAD} (rhythm)", LEFT_MM, rhythm_row, RHYTHM_LEAD in unreadable_leads)
    if beats is not None:
        _beats(ax, beats, fs, rhythm_row, RHYTHM_SECONDS)
    ax.text(PAPER_WIDTH_MM - 2.0, 1.0, "25 mm/s   10 mm/mV", fontsize=7, ha="right", color=_TRACE)
    return fig


def render_tracing_svg(
    signal: np.ndarray,
    fs: float,
    leads: Sequence[str],
    *,
    beats: BeatMarks | None = None,
    unreadable_leads: Collection[str] = (),
) -> bytes:
    """``signal`` (n_leads, n_samples) in mV -> the tracing as SVG (scales without loss)."""
    fig = _figure(signal, fs, leads, beats, unreadable_leads)
    out = io.BytesIO()
    FigureCanvasSVG(fig)
    with rc_context({"svg.fonttype": "none"}):  # labels stay text: searchable, smaller, sharp
        fig.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()


def render_tracing_png(
    signal: np.ndarray,
    fs: float,
    leads: Sequence[str],
    *,
    beats: BeatMarks | None = None,
    unreadable_leads: Collection[str] = (),
    dpi: int = 200,
) -> bytes:
    """The same tracing as PNG at ``dpi`` (the PDF report embeds it at print resolution)."""
    fig = _figure(signal, fs, leads, beats, unreadable_leads)
    out = io.BytesIO()
    FigureCanvasAgg(fig)
    fig.savefig(out, format="png", dpi=dpi)
    return out.getvalue()
