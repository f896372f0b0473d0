"""A coarse beat template for quality checks: QRS detection over all leads, the median beat, and the
polarity of its P wave and QRS per lead (used for limb-electrode reversal and beat consistency).

This is deliberately simple and independent of ``measurements.measure`` (quality runs first and
must not depend on the beats it judges): QRS complexes are the peaks of a spatial energy envelope
(the sum over leads of the squared 5-30 Hz slope, each lead scaled by its own 99th percentile so a
noisy lead cannot dominate), at least 250 ms apart. The caller passes the 5-30 Hz band (zero
phase, ``measurements.quality_features``) so the signal is filtered once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import find_peaks

from measurements.order_stats import sort_median

__all__ = ["BeatTemplate", "beat_template"]

_PRE_S = 0.45  # template window before the QRS centre
_POST_S = 0.45
_REFRACTORY_S = 0.25
_ONSET_SEARCH_S = 0.12  # QRS onset / offset searched this far from the envelope peak
_ONSET_LEVEL = 0.3  # onset / offset: where the spatial slope crosses 30 % of its peak
_PR_BASELINE_S = (0.03, 0.01)  # PR segment, seconds before the QRS onset
_P_WINDOW_S = (0.22, 0.03)  # P wave, seconds before the QRS onset
_P_SMOOTH_S = 0.04
_T_WINDOW_S = (0.06, 0.35)  # T wave, seconds after the QRS offset


@dataclass(frozen=True)
class BeatTemplate:
    """The median beat and what the quality checks read from it (per-lead arrays are (L,))."""

    n_beats: int
    qrs_net: np.ndarray  # R minus S of the median beat (positive = upright QRS)
    p_amplitude: np.ndarray  # signed extreme of the P window relative to the PR baseline
    t_amplitude: np.ndarray  # signed extreme of the T window relative to the PR baseline
    correlation: np.ndarray  # median over beats of the correlation of each beat with the template
    p_consistency: np.ndarray  # the same, over the P window only (time-locked P waves repeat)


def _envelope(qrs_band: np.ndarray, fs: float) -> np.ndarray:
    slope = np.diff(qrs_band, axis=1) ** 2
    scale = np.percentile(slope[:, ::4], 99, axis=1, keepdims=True)
    scaled = slope / np.maximum(scale, 1e-12)
    energy = np.clip(scaled, 0.0, 4.0).sum(axis=0)  # clip: one huge artefact is not a beat
    width = max(1, int(round(0.08 * fs)))
    return np.convolve(energy, np.ones(width) / width, mode="same")


def beat_template(x: np.ndarray, qrs_band: np.ndarray, fs: float) -> BeatTemplate:
    """Detect QRS complexes in a finite (L, N) signal (``qrs_band``: its 5-30 Hz band) and
    summarise the median beat."""
    leads, n = x.shape
    empty = np.full(leads, np.nan)
    env = _envelope(qrs_band, fs)
    height = 0.3 * np.percentile(env, 99)
    if not np.isfinite(height) or height <= 0:
        return BeatTemplate(0, empty, empty, empty, empty, empty)
    peaks, _ = find_peaks(env, height=height, distance=max(1, int(_REFRACTORY_S * fs)))
    pre, post = int(round(_PRE_S * fs)), int(round(_POST_S * fs))
    peaks = peaks[(peaks >= pre) & (peaks + post < n)]
    if len(peaks) < 2:
        return BeatTemplate(len(peaks), empty, empty, empty, empty, empty)
    index = peaks[:, None] + np.arange(-pre, post)[None, :]  # (B, W)
    beats = x[:, index]  # (L, B, W)
    template = sort_median(beats, axis=1)  # (L, W)

    correlation = _median_correlation(beats, template)
    # QRS onset and offset of the median beat: the first and last sample, within 120 ms of the
    # envelope peak, where the spatial slope of its 5-30 Hz band (summed over leads) reaches 30 % of
    # its maximum.
    band_template = qrs_band[:, index].mean(axis=1)  # (L, W); only its timing is used
    speed = np.abs(np.diff(band_template, axis=1)).sum(axis=0)
    search = int(round(_ONSET_SEARCH_S * fs))
    level = _ONSET_LEVEL * speed[pre - search : pre + search].max()
    above = np.flatnonzero(speed[pre - search : pre + search] >= level)
    onset, offset = pre - search + above[0], pre - search + above[-1] + 1
    p_start = onset - int(round(_P_WINDOW_S[0] * fs))
    if p_start < 0:
        return BeatTemplate(len(peaks), empty, empty, empty, correlation, empty)

    baseline_window = slice(
        onset - int(round(_PR_BASELINE_S[0] * fs)), onset - int(round(_PR_BASELINE_S[1] * fs))
    )
    baseline = template[:, baseline_window].mean(axis=1, keepdims=True)
    qrs = template[:, onset : max(offset, onset + 2)] - baseline
    qrs_net = qrs.max(axis=1) - (-qrs.min(axis=1))
    p_window = slice(p_start, onset - int(round(_P_WINDOW_S[1] * fs)))
    p_amplitude = _smoothed_extreme(template[:, p_window] - baseline, fs)
    p_consistency = _median_correlation(beats[:, :, p_window], template[:, p_window])
    t_window = slice(
        offset + int(round(_T_WINDOW_S[0] * fs)),
        min(template.shape[1], offset + int(round(_T_WINDOW_S[1] * fs))),
    )
    t_amplitude = _smoothed_extreme(template[:, t_window] - baseline, fs)
    return BeatTemplate(len(peaks), qrs_net, p_amplitude, t_amplitude, correlation, p_consistency)


def _median_correlation(beats: np.ndarray, template: np.ndarray) -> np.ndarray:
    """Per lead: the median over beats (L, B, W) of each beat's correlation with the template (L, W)."""
    centred = beats - beats.mean(axis=2, keepdims=True)
    t_centred = template - template.mean(axis=1, keepdims=True)
    num = (centred * t_centred[:, None, :]).sum(axis=2)
    den = np.sqrt((centred**2).sum(axis=2) * (t_centred**2).sum(axis=1)[:, None])
    return sort_median(num / np.maximum(den, 1e-12))


def _smoothed_extreme(segment: np.ndarray, fs: float) -> np.ndarray:
    """Signed extreme per row after a 40-ms moving average (P and T waves last 100 ms or more; the
    average keeps them and flattens pacing spikes and noise)."""
    width = max(1, int(round(_P_SMOOTH_S * fs)))
    if segment.shape[1] < width:
        return np.full(segment.shape[0], np.nan)
    csum = np.cumsum(np.pad(segment, ((0, 0), (1, 0))), axis=1)
    smooth = (csum[:, width:] - csum[:, :-width]) / width
    return smooth[np.arange(len(smooth)), np.abs(smooth).argmax(axis=1)]
