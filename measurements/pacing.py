"""Pacemaker spikes: very narrow (< 2 ms) steep deflections near the QRS in several leads at once.

A pacing stimulus survives in the raw (unfiltered, native-rate) signal as a 1-2 sample spike at
500 Hz, often small (bipolar pacing: < 0.1 mV at the body surface) and sometimes visible in a few
leads only. Per lead and sample the spike score is the raw signal's deviation from its own running
median over ~10 ms (a median that narrow keeps every physiological wave, the QRS included, and
removes a spike), divided by the local slope: the mean absolute first difference over the
surrounding ~24 ms, leaving out the two differences that touch the sample (so a spike does not
raise its own denominator), floored at a quarter of the lead's QRS slope (99.5th percentile of the
diagnostic band's first difference; keeps flat synthetic or quantised baselines from dividing by
zero). A sharp R peak, a notch or muscle noise has neighbours as steep as its deviation (score
~1-2); a stimulus does not. Per sample the score is that of the ``SPIKE_LEADS``-th largest lead (a
stimulus projects onto several leads at once; one electrode's artefact mostly does not).

Per beat the scores within R - 400 .. R + 250 ms (an atrial stimulus precedes the P wave by up
to the AV delay; the beat detector may lock onto the stimulus artefact itself, the ventricular
stimulus then follows it by the AV delay). A stimulus keeps its position relative to the QRS it
starts, noise and artefacts do not: the recording's spike ratio is the largest score that at least
half of the beats reach at one position relative to their R peak, within +-``LOCK_S`` (the R peak
of a blunt paced QRS moves by a few tens of ms between beats); paced when >= ``SPIKE_RATIO``.

Thresholds chosen on the odd LUDB records 1-99, checked on the even ones and on CinC
(docs/measurements.md). Needs fs >= 250 Hz and raw (not low-passed) input: a 40 Hz band-pass
(e.g. ptbxl-sph) removes the spikes, so paced recordings there read as not paced.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter1d, median_filter, uniform_filter1d

from measurements.order_stats import sort_median

__all__ = ["MIN_PACING_FS", "SPIKE_RATIO", "is_paced", "spike_ratio", "spike_scores"]

MIN_PACING_FS = 250.0
SPIKE_RATIO = 3.2  # geometric midpoint on the odd LUDB records: paced >= 4.92, others <= 2.14
SPIKE_LEADS = 4
SLOPE_FLOOR = 0.25  # local-slope floor, fraction of the lead's QRS slope
MEDIAN_WIDTH_S = 0.010
LOCAL_WIDTH_S = 0.024  # 12 differences at 500 Hz, 10 of them neighbours
BEFORE_R_S, AFTER_R_S = 0.40, 0.25
LOCK_S = 0.025  # R-peak jitter tolerated between beats (paced QRS peaks are blunt)


def _median3(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    return np.maximum(np.minimum(a, b), np.minimum(np.maximum(a, b), c))


def _running_median(seg: np.ndarray, width: int) -> np.ndarray:
    """``scipy.ndimage.median_filter`` of width ``width`` along axis 1 of (beats, samples, leads)
    windows, edges ``nearest``: the same values (a median selects, it does not compute), by a
    min/max network for widths 3 and 5 (250-349 Hz and 450-549 Hz), several times faster than the
    generic rank filter."""
    if width not in (3, 5):
        return np.asarray(median_filter(seg, size=(1, width, 1), mode="nearest"))
    half, n = width // 2, seg.shape[1]
    padded = np.concatenate([seg[:, :1]] * half + [seg] + [seg[:, -1:]] * half, axis=1)
    taps = [padded[:, k : k + n] for k in range(width)]
    if width == 3:
        return _median3(*taps)
    a, b, c, d, e = taps
    return _median3(
        e, np.maximum(np.minimum(a, b), np.minimum(c, d)), np.minimum(np.maximum(a, b), np.maximum(c, d))
    )


def spike_scores(raw: np.ndarray, filtered: np.ndarray, fs: float) -> np.ndarray:
    """(N,) per sample: the ``SPIKE_LEADS``-th largest lead's spike score (module docstring)."""
    n_leads, n = raw.shape
    if n < 3 or n_leads < SPIKE_LEADS:
        return np.zeros(n)
    raw = np.asarray(raw, dtype=np.float32)  # a ratio of mV differences: float32 is ample, and faster
    width = max(3, int(round(MEDIAN_WIDTH_S * fs)) | 1)
    half = max(3, int(round(LOCAL_WIDTH_S * fs / 2)))
    deviation = np.abs(raw - _running_median(raw.T[None], width)[0].T)
    step = np.abs(np.diff(raw, axis=1))
    slope = np.percentile(np.abs(np.diff(filtered, axis=1)), 99.5, axis=1) + 1e-9
    # The neighbours' steepness at sample t: the mean |difference| over the differences t-half ..
    # t+half-1 (an even window centred on t) less the two that touch t (t-1 and t).
    around = uniform_filter1d(step, 2 * half, axis=1, mode="nearest")[:, 1:] * (2 * half)
    local = np.zeros_like(raw)
    local[:, 1:-1] = (around - step[:, :-1] - step[:, 1:]) / (2 * half - 2)
    score = deviation / np.maximum(local, SLOPE_FLOOR * slope[:, None])
    return np.asarray(np.partition(score, -SPIKE_LEADS, axis=0)[-SPIKE_LEADS])


def spike_ratio(raw: np.ndarray, filtered: np.ndarray, r_peaks: np.ndarray, fs: float) -> float | None:
    """The largest spike score that at least half of the beats reach at one position relative to
    their R peak (within +-``LOCK_S``); None when it cannot be judged (rate < 250 Hz, < 3 beats)."""
    if fs < MIN_PACING_FS or r_peaks.size < 3:
        return None
    before, after = int(round(BEFORE_R_S * fs)), int(round(AFTER_R_S * fs))
    padded = np.pad(spike_scores(raw, filtered, fs), (before, after))
    per_beat = padded[r_peaks[:, None] + np.arange(before + after + 1)[None, :]]  # (beats, offsets)
    lock = 2 * int(round(LOCK_S * fs)) + 1
    near = maximum_filter1d(per_beat, lock, axis=1, mode="constant", cval=0.0)
    return float(np.max(sort_median(near, axis=0)))


def is_paced(raw: np.ndarray, filtered: np.ndarray, r_peaks: np.ndarray, fs: float) -> bool | None:
    """True when most beats carry a pacing spike; None when it cannot be judged."""
    ratio = spike_ratio(raw, filtered, r_peaks, fs)
    return None if ratio is None else ratio >= SPIKE_RATIO
