"""The 12-lead tracing on ECG paper, rendered with matplotlib (Agg/SVG canvases, no GUI, no pyplot).

Pure: arrays in, SVG or PNG bytes out. Layout (standard 3 x 4 + rhythm strip), in paper millimetres:

- rows I/aVR/V1/V4, II/aVL/V2/V5, III/aVF/V3/V6 of 2.5 s per column, then a 10-s lead II strip;
- 25 mm/s and 10 mm/mV; a 1-mV, 0.2-s calibration pulse at the start of every row;
- a 1-mm minor and 5-mm major grid;
- nothing clipped (``tracing_layout``): a trace may run into the neighbouring row, as on a cart's
  paper, and where a tall R or deep S wave would leave the paper the paper grows by up to
  ``MAX_EXTENSION_MM``; beyond that the whole tracing is drawn at 5 mm/mV, and the calibration
  pulses and the printed gain say so;
- lead labels on a white box above the traces, so a trace never hides one;
- the display filter, speed and gain printed in the corner (``display_band`` filters 0.5-150 Hz);
- with beats (the worker's own measurement of the same samples): every beat marked on the rhythm
  strip, premature beats (S, V) highlighted in red with their class;
- leads judged unreadable by the quality gate hatched in red and labelled "unreadable".

SVG groups carry ids a reader or a test can find: ``trace-<lead>`` (13, the rhythm strip is
``trace-II-rhythm``), ``grid-minor``, ``grid-major``, ``calibration-<row>``, ``beats``,
``premature-beats``, ``unreadable-<lead>``.
"""

from __future__ import annotations

import io
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

__all__ = [
    "BeatMarks", "LAYOUT", "PAPER_HEIGHT_MM", "PAPER_WIDTH_MM", "TracingLayout", "tracing_layout", "display_band",
    "render_tracing_png", "render_tracing_svg",
]  # fmt: skip

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
REDUCED_GAIN_MM_PER_MV = 5.0
MAX_EXTENSION_MM = 12.0  # more paper than this for one wave: draw the whole tracing at half gain
_TRACE, _MINOR, _MAJOR, _ALERT = "#111111", "#f6c9c9", "#e48a8a", "#b91c1c"
_LABEL_Z, _TRACE_Z = 5, 3


@dataclass(frozen=True)
class TracingLayout:
    """The paper of one tracing: the gain and the extra paper below 0 and above ``PAPER_HEIGHT_MM``."""

    gain_mm_per_mv: float = GAIN_MM_PER_MV
    below_mm: float = 0.0
    above_mm: float = 0.0

    @property
    def height_mm(self) -> float:
        return PAPER_HEIGHT_MM + self.below_mm + self.above_mm

    @property
    def width_mm(self) -> float:
        return PAPER_WIDTH_MM


@dataclass(frozen=True)
class BeatMarks:
    """R-peak sample indices (at the tracing's ``fs``) and one class per beat (N, S, V, Q)."""

    r_peaks: Sequence[int]
    classes: Sequence[str]


def _baseline(row: int) -> float:
    """The zero-mV line of ``row`` (0 = top), in mm from the bottom of the paper."""
    return PAPER_HEIGHT_MM - 2.0 - ROW_MM * (row + 0.5)


@dataclass(frozen=True)
class _Placement:
    lead: str
    start: int  # first sample
    stop: int
    x0_mm: float
    row: int
    gid: str


def _placements(fs: float, n_samples: int) -> Iterator[_Placement]:
    """Where every lead's samples go: the 3 x 4 columns of 2.5 s, then the 10-s rhythm strip."""
    column = int(round(COLUMN_SECONDS * fs))
    for row, names in enumerate(LAYOUT):
        for col, lead in enumerate(names):
            x0 = LEFT_MM + col * COLUMN_SECONDS * PAPER_SPEED_MM_PER_S
            yield _Placement(lead, col * column, min(n_samples, (col + 1) * column), x0, row, f"trace-{lead}")
    rhythm = min(n_samples, int(round(RHYTHM_SECONDS * fs)))
    yield _Placement(RHYTHM_LEAD, 0, rhythm, LEFT_MM, len(LAYOUT), f"trace-{RHYTHM_LEAD}-rhythm")


def _extension(signal: np.ndarray, fs: float, leads: Sequence[str], gain: float) -> tuple[float, float]:
    """Paper needed below 0 and above ``PAPER_HEIGHT_MM`` (mm, 0.5 mm to spare) at ``gain``."""
    index = {name: i for i, name in enumerate(leads)}
    low, high = 0.0, PAPER_HEIGHT_MM
    for place in _placements(fs, signal.shape[1]):
        if place.lead not in index or place.stop <= place.start:
            continue
        samples = signal[index[place.lead], place.start : place.stop]
        low = min(low, _baseline(place.row) + float(samples.min()) * gain)
        high = max(high, _baseline(place.row) + float(samples.max()) * gain)
    below = 0.0 if low >= 0.0 else -low + 0.5
    above = 0.0 if high <= PAPER_HEIGHT_MM else high - PAPER_HEIGHT_MM + 0.5
    return below, above


def tracing_layout(signal: np.ndarray, fs: float, leads: Sequence[str]) -> TracingLayout:
    """The paper that shows every sample of ``signal`` (mV) unclipped (see the module docstring)."""
    clean = np.nan_to_num(np.asarray(signal, dtype=np.float64))
    below, above = _extension(clean, fs, leads, GAIN_MM_PER_MV)
    if below + above <= MAX_EXTENSION_MM:
        return TracingLayout(GAIN_MM_PER_MV, below, above)
    below, above = _extension(clean, fs, leads, REDUCED_GAIN_MM_PER_MV)
    return TracingLayout(REDUCED_GAIN_MM_PER_MV, below, above)


def display_band(signal: np.ndarray, fs: float) -> tuple[np.ndarray, str]:
    """``signal`` filtered for display (0.5-150 Hz zero-phase, the AHA diagnostic band the measurements
    use for voltages; ``measurements.filters.amplitude_band``) and the band as printed ("0.5-150 Hz")."""
    from measurements.filters import AMPLITUDE_HZ, amplitude_band

    low, high = AMPLITUDE_HZ[0], min(AMPLITUDE_HZ[1], 0.45 * fs)
    filtered = amplitude_band(np.nan_to_num(np.asarray(signal, dtype=np.float64)), fs).astype(np.float32)
    return filtered, f"{low:g}-{high:.0f} Hz"


def _grid(ax: Axes, layout: TracingLayout) -> None:
    bottom, top = -layout.below_mm, PAPER_HEIGHT_MM + layout.above_mm
    for step, colour, width, gid in ((1.0, _MINOR, 0.3, "grid-minor"), (5.0, _MAJOR, 0.6, "grid-major")):
        xs = np.arange(0.0, PAPER_WIDTH_MM + 1e-6, step)
        ys = np.arange(np.ceil(bottom / step) * step, top + 1e-6, step)
        segments = [((x, bottom), (x, top)) for x in xs] + [((0.0, y), (PAPER_WIDTH_MM, y)) for y in ys]
        ax.add_collection(LineCollection(segments, colors=colour, linewidths=width, gid=gid, zorder=0))


def _calibration(ax: Axes, row: int, gain: float) -> None:
    base, x0 = _baseline(row), 2.0
    width, height = 0.2 * PAPER_SPEED_MM_PER_S, 1.0 * gain
    xs = [0.5, x0, x0, x0 + width, x0 + width, LEFT_MM - 0.5]
    ys = [base, base, base + height, base + height, base, base]
    ax.plot(xs, ys, color=_TRACE, linewidth=0.8, gid=f"calibration-{row}")


def _trace(ax: Axes, samples: np.ndarray, fs: float, x0_mm: float, row: int, gid: str, gain: float) -> None:
    t = np.arange(samples.size) / fs
    x = x0_mm + t * PAPER_SPEED_MM_PER_S
    ax.plot(x, _baseline(row) + samples * gain, color=_TRACE, linewidth=0.6, gid=gid, zorder=_TRACE_Z, clip_on=False)


def _label(ax: Axes, lead: str, x_mm: float, row: int, unreadable: bool) -> None:
    """The lead's name on a white box drawn over the traces: readable whatever runs beneath it."""
    text = f"{lead} (unreadable)" if unreadable else lead
    box = {"boxstyle": "square,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.9}
    ax.text(x_mm + 1.0, _baseline(row) + ROW_MM * 0.36, text, fontsize=7, zorder=_LABEL_Z, bbox=box,
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
    filter_label: str | None = None,
) -> Figure:
    """The paper as a figure sized in millimetres (1 data unit = 1 mm), grown where waves need it."""
    if signal.ndim != 2 or signal.shape[0] != len(leads) or fs <= 0:
        raise ValueError(f"signal of shape {signal.shape} at {fs} Hz does not match {len(leads)} leads")
    layout = tracing_layout(signal, fs, leads)
    gain = layout.gain_mm_per_mv
    fig = Figure(figsize=(PAPER_WIDTH_MM / _MM_PER_INCH, layout.height_mm / _MM_PER_INCH))
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(0.0, PAPER_WIDTH_MM)
    ax.set_ylim(-layout.below_mm, PAPER_HEIGHT_MM + layout.above_mm)
    ax.set_axis_off()
    _grid(ax, layout)
    index = {name: i for i, name in enumerate(leads)}
    clean = np.nan_to_num(signal.astype(np.float64))
    for row in range(len(LAYOUT) + 1):
        _calibration(ax, row, gain)
    for place in _placements(fs, signal.shape[1]):
        rhythm = place.row == len(LAYOUT)
        width = (RHYTHM_SECONDS if rhythm else COLUMN_SECONDS) * PAPER_SPEED_MM_PER_S
        unreadable = place.lead in unreadable_leads
        if unreadable:
            _mark_unreadable(ax, f"{place.lead}-rhythm" if rhythm else place.lead, place.x0_mm, place.row, width)
        if place.lead in index:
            _trace(ax, clean[index[place.lead], place.start : place.stop], fs, place.x0_mm, place.row, place.gid, gain)
        _label(ax, f"{place.lead} (rhythm)" if rhythm else place.lead, place.x0_mm, place.row, unreadable)
    if beats is not None:
        _beats(ax, beats, fs, len(LAYOUT), RHYTHM_SECONDS)
    corner = f"25 mm/s   {gain:g} mm/mV" if filter_label is None else f"{filter_label}   25 mm/s   {gain:g} mm/mV"
    ax.text(PAPER_WIDTH_MM - 2.0, 1.0 - layout.below_mm, corner, fontsize=7, ha="right", color=_TRACE,
            zorder=_LABEL_Z, bbox={"boxstyle": "square,pad=0.15", "facecolor": "white", "edgecolor": "none"})  # fmt: skip
    return fig


def render_tracing_svg(
    signal: np.ndarray,
    fs: float,
    leads: Sequence[str],
    *,
    beats: BeatMarks | None = None,
    unreadable_leads: Collection[str] = (),
    filter_label: str | None = None,
) -> bytes:
    """``signal`` (n_leads, n_samples) in mV -> the tracing as SVG (scales without loss);
    ``filter_label`` (e.g. "0.5-150 Hz", see ``display_band``) is printed beside speed and gain."""
    fig = _figure(signal, fs, leads, beats, unreadable_leads, filter_label)
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
    filter_label: str | None = None,
) -> bytes:
    """The same tracing as PNG at ``dpi`` (the PDF report embeds it at print resolution; its size in
    millimetres is ``tracing_layout(...)``'s)."""
    fig = _figure(signal, fs, leads, beats, unreadable_leads, filter_label)
    out = io.BytesIO()
    FigureCanvasAgg(fig)
    fig.savefig(out, format="png", dpi=dpi)
    return out.getvalue()
