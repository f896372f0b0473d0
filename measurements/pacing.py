"""Pacemaker spikes: very narrow (< 2 ms) steep deflections before the QRS in many leads at once.

A pacing stimulus survives in the raw (unfiltered) signal as a 1-2 sample spike at 500 Hz. Per lead
the spike is the raw signal's deviation from its own running median over ~10 ms (a median filter
removes anything that narrow and keeps every physiological wave, the QRS included), relative to the
lead's QRS slope (99.5th percentile of the diagnostic band's first difference). The spike must be
visible in at least ``SPIKE_LEADS`` leads in the same sample, and the recording is paced when at
least half of the beats carry one within the 300 ms before their R peak (a consistent spike-to-QRS
relation: atrial or ventricular stimulus). Thresholds chosen on the odd LUDB records, checked on
the even ones (docs/measurements.md). Needs fs >= 250 Hz and raw (not low-passed) input: a
40 Hz band-pass (e.g. ptbxl-sph) removes the spikes, so paced recordings there read as not paced.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import median_filter

from measurements.order_stats import sort_median

__all__ = ["MIN_PACING_FS", "SPIKE_RATIO", "is_paced", "spike_ratio"]

MIN_PACING_FS = 250.0
SPIKE_RATIO = 2.5  # per-beat spike height / QRS slope, median over beats
SPIKE_LEADS = 4
MEDIAN_WIDTH_S = 0.010
BEFORE_R_S, AFTER_R_S = 0.30, 0.02


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


def spike_ratio(raw: np.ndarray, filtered: np.ndarray, r_peaks: np.ndarray, fs: float) -> float | None:
    """Median over beats of the largest spike (in the ``SPIKE_LEADS``-th largest lead) before R,
    relative to the QRS slope; None when it cannot be judged (low rate, too few beats)."""
    if fs < MIN_PACING_FS or r_peaks.size < 3:
        return None
    before, after = int(round(BEFORE_R_S * fs)), int(round(AFTER_R_S * fs))
    starts = np.clip(r_peaks - before, 0, None)
    stops = np.clip(r_peaks + after, 0, raw.shape[1])
    width = max(3, int(round(MEDIAN_WIDTH_S * fs)) | 1)
    slope = np.percentile(np.abs(np.diff(filtered, axis=1)), 99.5, axis=1) + 1e-9
    lengths = stops - starts
    peaks: list[float] = []
    # All beats' windows at once (grouped by length: only windows clipped at the record's ends
    # differ); the median filter runs along each window separately, as on each window alone.
    for length in np.unique(lengths[lengths > width]):
        first = starts[lengths == length]
        seg = raw.T[first[:, None] + np.arange(length)[None, :]]  # (beats, samples, leads)
        residual = np.abs(seg - _running_median(seg, width)) / slope
        peaks.extend(np.max(np.partition(residual, -SPIKE_LEADS, axis=2)[..., -SPIKE_LEADS], axis=1).tolist())
    return float(sort_median(np.asarray(peaks))) if len(peaks) >= 3 else None


def is_paced(raw: np.ndarray, filtered: np.ndarray, r_peaks: np.ndarray, fs: float) -> bool | None:
    """True when most beats follow a pacing spike; None when it cannot be judged."""
    ratio = spike_ratio(raw, filtered, r_peaks, fs)
    return None if ratio is None else ratio >= SPIKE_RATIO
