"""Representative (median) beat per lead, aligned on R, from the dominant-rhythm beats.

The window before R is long enough for the P wave of a first-degree block and the window after R for
a long QT, both shortened at fast rates so that one beat's window never reaches far into the next.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from measurements.order_stats import sort_median

__all__ = ["MedianBeat", "median_beat"]

MIN_BEATS = 2


@dataclass(frozen=True)
class MedianBeat:
    """(12, L) median of the dominant beats; ``r_index`` is R's sample within the window.

    ``rr_s`` is the median RR that follows the chosen beats (it bounds the T wave: in bigeminy the
    premature beat comes well before the next dominant one) and ``rr_before_s`` the median RR that
    precedes them (it bounds the P wave)."""

    waves: np.ndarray
    r_index: int
    n_beats: int
    fs: float
    rr_s: float
    rr_before_s: float


def median_beat(
    filtered: np.ndarray, r_peaks: np.ndarray, use: np.ndarray, fs: float, rr_s: float
) -> MedianBeat | None:
    """Median of the beats selected by ``use`` (bool per R peak); None with fewer than 2 usable beats.

    Window: R - min(0.45 s, 0.55 RR before) .. R + min(0.70 s, RR after - 0.05 s), at least R + 0.35 s;
    ``rr_s`` is the fallback where no neighbouring RR is known.
    """
    after = np.append(np.diff(r_peaks), 0)[use] / fs
    before = np.insert(np.diff(r_peaks), 0, 0)[use] / fs
    rr_after = float(sort_median(after[after > 0])) if (after > 0).any() else rr_s
    rr_before = float(sort_median(before[before > 0])) if (before > 0).any() else rr_s
    pre = int(round(min(0.45, 0.55 * rr_before) * fs))
    post = int(round(max(0.35, min(0.70, rr_after - 0.05)) * fs))
    n = filtered.shape[1]
    inside = (r_peaks - pre >= 0) & (r_peaks + post < n) & use
    chosen = r_peaks[inside]
    if chosen.size < MIN_BEATS:
        return None
    idx = chosen[:, None] + np.arange(-pre, post + 1)[None, :]  # (beats, L)
    windows = filtered[:, idx]  # (12, beats, L): sorting along the beats is fastest this way round
    return MedianBeat(sort_median(windows, axis=1), pre, int(chosen.size), fs, rr_after, rr_before)
