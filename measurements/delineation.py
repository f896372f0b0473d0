"""Global wave boundaries on the median beat over all 12 leads, the way clinical programs do.

- QRS onset / offset: the spatial velocity (root sum of squared first differences over the 12 leads)
  falls to within 5 % (onset) / 3 % (offset) of its QRS height above the PR / ST segments' floor
  (5th percentile) and stays there for 6 ms, searching outward from the QRS's velocity peak; the
  offset then moves to the velocity's minimum within the next 10 ms (the J point).
- T end: the trapezium-area method (Vazquez-Seisdedos et al., BioMed Eng OnLine 2011) applied to the
  spatial T magnitude (root sum of squares of every lead's deviation from the PR baseline): the
  point after the steepest T downslope that maximises the trapezium area to a reference point.
  Kept only where the leads confirm it: the median of the same method's T end on each lead with a
  clear T lies within 30 ms (else ``t_end_leads_disagree``), and it ends before the next beat's P
  onset (else ``t_end_after_next_p``).
- P wave: the spatial magnitude (deviation from the PR baseline) in the 400 ms before the QRS, not
  before the previous T end; its peak within 350 ms of QRS onset; P present when the peak stands
  0.03 mV above the floor before it; onset where the magnitude falls to 15 % of that height, at most
  120 ms before the peak; an onset at the window's start is a P cut by it (``p_onset_unclear``).

Each boundary is None with a reason code when the curve does not support it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from measurements.template import MedianBeat

__all__ = ["DelineationParams", "Fiducials", "delineate", "pr_baseline"]


@dataclass(frozen=True)
class DelineationParams:
    """Thresholds, chosen on LUDB (docs/measurements.md): fractions of a curve's height above its
    floor, durations in seconds, amplitudes in mV."""

    qrs_on_fraction: float = 0.05
    qrs_off_fraction: float = 0.03
    qrs_off_settle_s: float = 0.010
    hold_s: float = 0.006
    p_on_fraction: float = 0.15
    p_min_mv: float = 0.03
    t_min_mv: float = 0.05
    t_ref_s: float = 0.25
    p_rise_s: float = 0.12
    p_peak_reach_s: float = 0.35
    floor_percentile: float = 5.0
    # T end confirmed by the leads: the median of the per-lead T ends (leads whose T stands at least
    # ``lead_t_fraction`` of the tallest lead's T and ``t_min_mv``) within ``t_agree_s`` of the
    # global T end, else None. 30 ms is the IEC 60601-2-25 QT SD tolerance: two estimates of the
    # same T end further apart than it mean the T end is not known to it. Chosen on the odd LUDB
    # records, checked on the even ones (docs/measurements.md).
    t_agree_s: float | None = 0.030
    lead_t_fraction: float = 0.1


@dataclass
class Fiducials:
    """Sample indices within the median beat (None where not found) and reasons."""

    p_on: int | None = None
    p_off: int | None = None
    qrs_on: int | None = None
    qrs_off: int | None = None
    t_peak: int | None = None
    t_end: int | None = None
    missing: dict[str, str] = field(default_factory=dict)


def _spatial_velocity(waves: np.ndarray) -> np.ndarray:
    d = np.diff(waves, axis=1, prepend=waves[:, :1])
    return np.sqrt(np.sum(d * d, axis=0))


def _quiet_run(below: np.ndarray, start: int, step: int, hold: int, stop: int) -> int | None:
    """First index from ``start`` walking by ``step`` where ``below`` holds for ``hold`` samples."""
    i = start
    run = 0
    while (i >= stop) if step < 0 else (i <= stop):
        run = run + 1 if below[i] else 0
        if run >= hold:
            return i - step * (hold - 1)
        i += step
    return None


def _qrs_bounds(beat: MedianBeat, sv: np.ndarray, params: DelineationParams, out: Fiducials) -> None:
    fs, r = beat.fs, beat.r_index
    half = int(round(0.06 * fs))
    lo, hi = max(1, r - half), min(sv.size - 1, r + half)
    peak = lo + int(np.argmax(sv[lo:hi]))
    top = float(sv[peak])
    if top <= 1e-6:
        out.missing["qrs"] = "no_qrs"
        return
    hold = max(2, int(round(params.hold_s * fs)))
    first, last = max(1, r - int(0.20 * fs)), min(sv.size - 1, r + int(0.24 * fs))
    # Floors: a low percentile of the velocity before and after the QRS peak (the PR and ST segments'
    # noise level, never exactly zero).
    q = params.floor_percentile
    floor_on = float(np.percentile(sv[first:peak], q)) if peak > first else 0.0
    floor_off = float(np.percentile(sv[peak:last], q)) if last > peak else 0.0
    below_on = sv < floor_on + params.qrs_on_fraction * (top - floor_on)
    below_off = sv < floor_off + params.qrs_off_fraction * (top - floor_off)
    on = _quiet_run(below_on, peak, -1, hold, first)
    off = _quiet_run(below_off, peak, 1, hold, last)
    if on is None or off is None:
        out.missing["qrs"] = "qrs_boundaries_unclear"
        return
    # The J point: the velocity's minimum within ``qrs_off_settle_s`` after it first settles (the
    # slow end of the QRS, before the ST-T slope rises again).
    settle = sv[off : min(last, off + int(round(params.qrs_off_settle_s * fs))) + 1]
    out.qrs_on, out.qrs_off = on, off + int(np.argmin(settle))


def pr_baseline(beat: MedianBeat, qrs_on: int) -> np.ndarray:
    """Per-lead isoelectric level just before the QRS (mean of qrs_on - 20 .. qrs_on - 4 ms)."""
    a = max(0, qrs_on - int(round(0.020 * beat.fs)))
    b = max(a + 1, qrs_on - int(round(0.004 * beat.fs)))
    return np.asarray(beat.waves[:, a:b].mean(axis=1))


def _area_end(y: np.ndarray, peak: int, stop: int, fs: float, t_ref_s: float) -> int | None:
    """Trapezium-area T end of a curve whose T is positive at ``peak`` (Vazquez-Seisdedos 2011):
    from the steepest downslope within 150 ms after the peak, the point that maximises the area
    to a reference point ``t_ref_s`` later (at most ``stop``)."""
    slope = np.diff(y[peak : min(stop, peak + int(round(0.15 * fs)))])
    if slope.size < 3:
        return None
    xm = peak + int(np.argmin(slope))
    xr = min(stop, xm + int(round(t_ref_s * fs)))
    if xr - xm < 3:
        return None
    xi = np.arange(xm, xr + 1)
    area = 0.5 * (y[xm] - y[xi]) * (2 * xr - xi - xm)
    return xm + int(np.argmax(area))


def _lead_t_ends(
    waves: np.ndarray, start: int, peak_stop: int, stop: int, fs: float, params: DelineationParams
) -> np.ndarray:
    """T end of every lead whose T wave is clear (the same area method on each lead, its T turned
    positive); leads with a small T are left out."""
    seg = np.abs(waves[:, start:peak_stop])
    peaks = start + np.argmax(seg, axis=1)
    amps = np.array(
        [abs(waves[k, p]) - np.min(np.sign(waves[k, p]) * waves[k, p:stop]) for k, p in enumerate(peaks)]
    )
    keep = amps >= max(params.t_min_mv, params.lead_t_fraction * float(amps.max()))
    ends = []
    for k in np.nonzero(keep)[0]:
        end = _area_end(np.sign(waves[k, peaks[k]]) * waves[k], int(peaks[k]), stop, fs, params.t_ref_s)
        if end is not None:
            ends.append(end)
    return np.asarray(ends)


def _t_end(beat: MedianBeat, base: np.ndarray, params: DelineationParams, out: Fiducials) -> int | None:
    """Set the T peak and end when the leads confirm it; return the end found on the spatial
    magnitude either way (it still bounds the P-wave search), None where there is none."""
    assert out.qrs_off is not None
    fs = beat.fs
    mag = np.sqrt(np.sum((beat.waves - base[:, None]) ** 2, axis=0))
    start = out.qrs_off + int(round(0.06 * fs))
    # The T peak lies before R + min(0.55 s, 0.6 RR) and T ends before the next P wave
    # (R + 0.85 RR): the window never reaches the next beat.
    r = beat.r_index
    peak_stop = min(mag.size - 1, r + int(round(min(0.55, 0.6 * beat.rr_s) * fs)))
    stop = min(mag.size - 1, r + int(round(0.85 * beat.rr_s * fs)))
    if peak_stop - start < int(0.05 * fs):
        out.missing["t"] = "t_wave_outside_window"
        return None
    peak = start + int(np.argmax(mag[start:peak_stop]))
    floor = float(np.min(mag[peak:stop])) if stop > peak else 0.0
    if float(mag[peak]) - floor < params.t_min_mv:
        out.missing["t"] = "t_wave_flat"
        return None
    end = _area_end(mag, peak, stop, fs, params.t_ref_s)
    if end is None or end >= stop - 1:  # no end inside the window: the T runs into the next beat
        out.missing["t"] = "t_end_unclear"
        return None
    if params.t_agree_s is not None:
        leads = _lead_t_ends(beat.waves - base[:, None], start, peak_stop, stop, fs, params)
        if leads.size < 2 or abs(float(np.median(leads)) - end) > params.t_agree_s * fs:
            out.missing["t"] = "t_end_leads_disagree"
            return end
    out.t_peak = peak
    out.t_end = end
    return end


def _p_wave(
    beat: MedianBeat, base: np.ndarray, params: DelineationParams, out: Fiducials, t_end: int | None
) -> None:
    assert out.qrs_on is not None
    fs = beat.fs
    end = out.qrs_on - int(round(0.03 * fs))
    begin = max(0, out.qrs_on - int(round(0.40 * fs)))
    if t_end is not None:  # not before the previous beat's T end
        begin = max(begin, t_end - int(round(beat.rr_before_s * fs)) + int(round(0.02 * fs)))
    if end - begin < int(0.06 * fs):
        out.missing["p"] = "p_window_too_short"
        return
    mag = np.sqrt(np.sum((beat.waves[:, begin:end] - base[:, None]) ** 2, axis=0))
    # The P peak lies within 350 ms before the QRS onset (PR up to ~400 ms); its onset may be earlier.
    peak_from = max(0, out.qrs_on - int(round(params.p_peak_reach_s * fs)) - begin)
    peak = peak_from + int(np.argmax(mag[peak_from:]))
    floor = float(np.min(mag[: peak + 1]))
    height = float(mag[peak]) - floor
    if height < params.p_min_mv or peak == 0:
        out.missing["p"] = "no_p_waves"
        return
    threshold = floor + params.p_on_fraction * height
    # A P wave rises to its peak within ~120 ms: look for its onset no further back.
    reach = max(0, peak - int(round(params.p_rise_s * fs)))
    below_before = np.nonzero(mag[:peak] < threshold)[0]
    below_before = below_before[below_before >= reach]
    if below_before.size == 0:
        below_before = np.array([reach + int(np.argmin(mag[reach : peak + 1]))])
    if below_before[-1] <= max(2, int(round(params.hold_s * fs))):
        # The onset is the window's start: the P wave runs into the previous T (or past 400 ms).
        out.missing["p"] = "p_onset_unclear"
        return
    out.p_on = begin + int(below_before[-1])
    after = np.nonzero(mag[peak:] < floor + 0.5 * height)[0]
    out.p_off = begin + peak + int(after[0]) if after.size else end


def delineate(beat: MedianBeat, params: DelineationParams | None = None) -> Fiducials:
    """P onset/offset, QRS onset/offset, T peak/end on the median beat (indices into ``beat.waves``)."""
    params = params or DelineationParams()
    out = Fiducials()
    sv = _spatial_velocity(beat.waves)
    _qrs_bounds(beat, sv, params, out)
    if out.qrs_on is None:
        return out
    base = pr_baseline(beat, out.qrs_on)
    _p_wave(beat, base, params, out, _t_end(beat, base, params, out))
    if out.t_end is not None and out.p_on is not None and out.t_end >= out.p_on + beat.rr_s * beat.fs:
        # The T end lies past the next beat's P onset (T and P fused at a fast rate): not measurable.
        out.t_peak = out.t_end = None
        out.missing["t"] = "t_end_after_next_p"
    return out
