"""Atrial activity locked to the QRS: how coherent the segment before each dominant QRS is.

In sinus rhythm (and any rhythm with conducted P waves) every dominant beat has the same P wave at
the same distance before its QRS, so the beats' pre-QRS segments (300 to 80 ms before R) average
into a clear wave that stands far above their beat-to-beat variation. In atrial fibrillation the
fibrillatory waves have no fixed relation to the QRS: they average out while their variation stays,
so the average is as small as its own standard error. ``pre_qrs_coherence`` is that signal-to-noise
ratio (the energy of the average over the energy of its standard error), per lead, the third
largest over the usable leads (P waves may be visible in a few leads only), after a 15 Hz low-pass (P and f waves lie below it, mains and muscle noise above); it
is dimensionless, so it holds for signals that are not in mV (z-scored, scaled).

Measured (docs/measurements.md): atrial fibrillation in ptbxl-sph (106 records) median 1.3, 90th
percentile 6.1; LUDB's 9 AF records 0.8-8.9; records without AF median 65, 5th percentile 14.
Each window is detrended first, so baseline wander does not count as coherent activity.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfiltfilt

__all__ = ["MIN_COHERENCE_BEATS", "pre_qrs_coherence"]

BEFORE_R_S, UNTIL_R_S = 0.30, 0.08
RANKED_LEAD = 3  # the third most coherent lead: P waves may show in a few leads only, artefacts in one or two
LOWPASS_HZ = 15.0  # P and fibrillatory waves lie below; mains, muscle noise and pops above
MIN_COHERENCE_BEATS = 4


def pre_qrs_coherence(
    filtered: np.ndarray,
    r_peaks: np.ndarray,
    dominant: np.ndarray,
    fs: float,
    usable: np.ndarray | None = None,
) -> float | None:
    """Coherence of the pre-QRS segments of the dominant beats (see the module docstring); None with
    fewer than ``MIN_COHERENCE_BEATS`` such beats or no usable lead."""
    start, stop = int(round(BEFORE_R_S * fs)), int(round(UNTIL_R_S * fs))
    beats = r_peaks[dominant & (r_peaks - start >= 0)]
    leads = [k for k in range(filtered.shape[0]) if usable is None or usable[k]]
    if beats.size < MIN_COHERENCE_BEATS or not leads or stop >= start:
        return None
    x = np.asarray(filtered[leads], dtype=np.float64)
    if fs > 2.5 * LOWPASS_HZ:
        x = sosfiltfilt(butter(2, LOWPASS_HZ, fs=fs, output="sos"), x, axis=1)
    windows = x[:, beats[:, None] + np.arange(-start, -stop)[None, :]]  # (leads, beats, L)
    t = np.arange(windows.shape[2], dtype=np.float64)
    t = (t - t.mean()) / max(float(t.std()), 1e-12)
    windows = windows - windows.mean(axis=2, keepdims=True)
    windows = windows - (windows * t).mean(axis=2, keepdims=True) * t
    average = windows.mean(axis=1)  # (leads, L)
    variance = ((windows - average[:, None, :]) ** 2).sum(axis=(1, 2)) / max(beats.size - 1, 1)
    standard_error_energy = variance / beats.size
    signal_energy = (average**2).sum(axis=1)
    ratios = np.sort(signal_energy / np.maximum(standard_error_energy, 1e-12))
    return float(ratios[max(0, ratios.size - RANKED_LEAD)])
