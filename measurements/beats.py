"""Beats: R peaks from all leads, premature and ventricular beats, P wave present per beat.

R peaks: neurokit2's gradient detector (``ecg_findpeaks``, method ``neurokit``) on a spatial QRS-energy
curve (each independent lead's slope in the 0.5-40 Hz band clipped at twice its own typical QRS
slope, the largest two leads left out at each sample; ``qrs_energy``), so no single lead's polarity, noise or
electrode pops decide; each peak is then moved to the energy maximum within +-50 ms.

Classes (rules, stated once here):
- *premature*: the RR interval ending at the beat is shorter than 85 % of the local dominant RR (the
  larger of the median and the mean of the non-ectopic RR intervals within 8 beats either side; the
  mean where bigeminy makes half the intervals premature), and the next RR interval is
  longer than the premature one (a pause follows; a sustained rate change is not premature).
  Prematurity is not judged when the whole rhythm is irregular (``irregular=True``: atrial
  fibrillation-like), where no dominant RR exists.
- *morphology differs*: the beat's QRS window (-100..+120 ms around R, all leads, diagnostic band)
  correlates below 0.80 with the median QRS of the recording, or its energy is outside 0.5-2x.
- V: morphology differs and premature, or morphology differs with a QRS energy width >= 1.3x the
  dominant one (wide); S: premature with the dominant morphology; Q: morphology differs but neither
  premature nor wide (artefact, aberrancy); N: everything else.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy.signal import butter, sosfiltfilt

from measurements.order_stats import sort_median

logger = logging.getLogger(__name__)

__all__ = [
    "INDEPENDENT_LEADS",
    "BeatFeatures",
    "align_peaks",
    "classify_beats",
    "detect_r_peaks",
    "qrs_energy",
    "without_slow_waves",
]

# I, II, V1-V6: the 8 independent leads (III, aVR, aVL, aVF are linear combinations of I and II).
INDEPENDENT_LEADS = np.array([0, 1, 6, 7, 8, 9, 10, 11])
PREMATURE_RATIO = 0.85
MORPHOLOGY_CORRELATION = 0.80
WIDE_RATIO = 1.3
ENERGY_CLIP = 2.0  # a lead's slope counts at most twice its own typical QRS slope
SLOW_WAVE_RATIO = 0.2  # a QRS has at least 20 % of the typical QRS energy in the QRS band (T waves: ~0.1)
QRS_BAND_HZ = (8.0, 30.0)  # where the QRS has its energy and T waves have little (Pan and Tompkins 1985: 5-15 Hz)
TRIMMED_LEADS = 2  # leads left out at each sample (the largest): one or two bad leads cannot decide


def qrs_energy(
    filtered: np.ndarray,
    fs: float,
    usable: np.ndarray | None = None,
    *,
    independent_only: bool = True,
    qrs_band: bool = True,
) -> np.ndarray:
    """Spatial QRS energy, robust to one or two bad leads. Shape (samples,).

    Per lead, the absolute first difference of the QRS band (``QRS_BAND_HZ`` of the diagnostic band:
    T and P waves are slow and nearly vanish there) is scaled by the lead's typical QRS slope (the
    median over 1-s windows of each window's largest slope, so electrode pops in a few windows do
    not set it) and clipped at ``ENERGY_CLIP``; at each sample the ``TRIMMED_LEADS``
    largest leads are left out and the rest combined as a root mean square, smoothed over 20 ms. A
    spike or a burst of noise in one or two leads therefore cannot make or hide a QRS, while a real
    QRS, seen in most leads at once, stands out. ``usable`` (bool per lead) leaves out leads the
    quality check found unreadable; the independent leads (I, II, V1-V6) are used where at least 4
    are usable (and ``independent_only``), else every usable lead. ``qrs_band=False`` keeps the
    whole diagnostic band: the curve R peaks are aligned on (the fiducial delineation expects).
    """
    chosen = [k for k in INDEPENDENT_LEADS if usable is None or usable[k]]
    if len(chosen) < 4 or not independent_only:
        chosen = [k for k in range(filtered.shape[0]) if usable is None or usable[k]] or list(INDEPENDENT_LEADS)
    x = filtered[chosen]
    if qrs_band and fs > 2.2 * QRS_BAND_HZ[1]:
        x = sosfiltfilt(butter(2, QRS_BAND_HZ, btype="bandpass", fs=fs, output="sos"), x, axis=1)
    d = np.abs(np.diff(x, axis=1, prepend=x[:, :1]))
    window = max(1, int(round(fs)))
    n_windows = d.shape[1] // window
    if n_windows >= 3:
        peaks = d[:, : n_windows * window].reshape(len(chosen), n_windows, window).max(axis=2)
        scale = np.median(peaks, axis=1)
    else:
        scale = d.max(axis=1)
    v = np.minimum(d / np.maximum(scale, 1e-9)[:, None], ENERGY_CLIP)
    trimmed = min(TRIMMED_LEADS, max(0, len(chosen) - 3))
    if trimmed:
        v = np.partition(v, len(chosen) - trimmed - 1, axis=0)[: len(chosen) - trimmed]
    energy = np.sqrt(np.mean(v * v, axis=0))
    width = max(1, int(round(0.02 * fs)))
    return np.convolve(energy, np.ones(width) / width, mode="same")


def detect_r_peaks(energy: np.ndarray, fs: float) -> np.ndarray:
    """Sample indices of QRS complexes on the spatial energy curve (int64, ascending)."""
    import neurokit2 as nk  # heavy import: only when measuring

    if energy.size < int(fs) or not np.isfinite(energy).all() or float(np.max(energy)) <= 1e-6:
        return np.zeros(0, dtype=np.int64)
    found = nk.ecg_findpeaks(energy, sampling_rate=int(round(fs)), method="neurokit")["ECG_R_Peaks"]
    peaks = np.asarray(found, dtype=np.int64)
    if peaks.size == 0:
        return peaks
    half = int(round(0.05 * fs))
    refined = np.empty_like(peaks)
    for i, p in enumerate(peaks):
        lo, hi = max(0, p - half), min(energy.size, p + half + 1)
        refined[i] = lo + int(np.argmax(energy[lo:hi]))
    refined = np.unique(refined)
    # Drop beats too close to the ends to hold a QRS window.
    margin = int(round(0.1 * fs))
    return refined[(refined >= margin) & (refined < energy.size - margin)]


def without_slow_waves(r_peaks: np.ndarray, band_energy: np.ndarray, fs: float) -> np.ndarray:
    """``r_peaks`` less the detections with little QRS-band energy (``qrs_energy`` with the default
    ``qrs_band``): T waves taller and steeper than a slurred (paced, bundle-branch) QRS can peak on
    the broadband curve, never in the 8-30 Hz band. A detection is dropped when its QRS-band peak
    (within +-50 ms) is below ``SLOW_WAVE_RATIO`` of the 90th percentile of the detections' peaks."""
    if r_peaks.size < 3:
        return r_peaks
    half = int(round(0.05 * fs))
    peaks = np.array([band_energy[max(0, p - half) : p + half + 1].max() for p in r_peaks])
    return r_peaks[peaks >= SLOW_WAVE_RATIO * float(np.percentile(peaks, 90))]


class BeatFeatures:
    """Per-beat QRS windows and their comparison with the recording's median QRS."""

    def __init__(self, filtered: np.ndarray, r_peaks: np.ndarray, fs: float) -> None:
        pre, post = int(round(0.10 * fs)), int(round(0.12 * fs))
        idx = r_peaks[:, None] + np.arange(-pre, post + 1)[None, :]
        idx = np.clip(idx, 0, filtered.shape[1] - 1)
        windows = filtered[:, idx]  # (leads, beats, window)
        windows = windows - windows.mean(axis=2, keepdims=True)
        flat = np.transpose(windows, (1, 0, 2)).reshape(len(r_peaks), -1)  # (beats, leads*window)
        self.median = sort_median(flat, axis=0)
        norms = np.linalg.norm(flat, axis=1)
        median_norm = float(np.linalg.norm(self.median)) or 1e-12
        self.correlation = (flat @ self.median) / np.maximum(norms * median_norm, 1e-12)
        self.energy_ratio = norms / median_norm
        self.width_ratio = self._width_ratio(windows, fs)

    @staticmethod
    def _width_ratio(windows: np.ndarray, fs: float) -> np.ndarray:
        """Each beat's QRS width (duration where |slope| over leads exceeds 20 % of its own maximum)
        relative to the median beat's."""
        slope = np.sqrt(np.sum(np.diff(windows, axis=2) ** 2, axis=0))  # (beats, window-1)
        active = slope > 0.2 * slope.max(axis=1, keepdims=True)
        widths = active.sum(axis=1).astype(float)
        return widths / max(float(sort_median(widths)), 1.0)

    def differs(self) -> np.ndarray:
        return (
            (self.correlation < MORPHOLOGY_CORRELATION)
            | (self.energy_ratio < 0.5)
            | (self.energy_ratio > 2.0)
        )


def _reference(rr: np.ndarray) -> float:
    """The dominant RR of a set of intervals: their median, or their mean where premature intervals
    are half of them (bigeminy: the median would be a premature interval)."""
    return max(float(sort_median(rr)), float(np.mean(rr)))


def _premature(rr: np.ndarray, ectopic_hint: np.ndarray) -> np.ndarray:
    """Boolean per RR interval (rr[i] ends at beat i+1): shorter than 85 % of the local dominant RR
    and followed by a longer interval."""
    n = rr.size
    usable = ~ectopic_hint
    premature = np.zeros(n, dtype=bool)
    global_ref = _reference(rr[usable]) if usable.any() else _reference(rr)
    for i in range(n):
        lo, hi = max(0, i - 8), min(n, i + 9)
        neighbours = [rr[j] for j in range(lo, hi) if j != i and usable[j]]
        ref = _reference(np.asarray(neighbours)) if len(neighbours) >= 3 else global_ref
        followed_by_pause = i + 1 >= n or rr[i + 1] > rr[i] * 1.05
        premature[i] = rr[i] < PREMATURE_RATIO * ref and followed_by_pause
    return premature


def classify_beats(
    r_peaks: np.ndarray, features: BeatFeatures, fs: float, *, irregular: bool
) -> tuple[str, ...]:
    """One class per beat (N, S, V, Q) by the rules in the module docstring."""
    n = r_peaks.size
    if n == 0:
        return ()
    differs = features.differs()
    wide = features.width_ratio >= WIDE_RATIO
    premature_beat = np.zeros(n, dtype=bool)
    if n >= 3 and not irregular:
        rr = np.diff(r_peaks).astype(float)
        # First pass: intervals clearly short against the whole record, and the pauses after them.
        hint = rr < PREMATURE_RATIO * _reference(rr)
        hint[1:] |= hint[:-1]
        premature_beat[1:] = _premature(rr, hint)
    classes: list[str] = []
    for i in range(n):
        if differs[i] and (premature_beat[i] or wide[i]):
            classes.append("V")
        elif differs[i]:
            classes.append("Q")
        elif premature_beat[i]:
            classes.append("S")
        else:
            classes.append("N")
    return tuple(classes)


def align_peaks(energy: np.ndarray, r_peaks: np.ndarray, fs: float) -> np.ndarray:
    """Move each R peak by up to +-20 ms to best match a QRS-energy template (-100..+100 ms), so that
    a QRS with two similar energy maxima is aligned the same way in every beat. Two passes: first on
    the most typical beat (highest mean correlation with the others), then on the median of the
    aligned beats."""
    if r_peaks.size < 3:
        return r_peaks
    half, reach = int(round(0.1 * fs)), int(round(0.02 * fs))
    offsets = np.arange(-half, half + 1)
    shifts = np.arange(-reach, reach + 1)
    margin = int(round(0.1 * fs))

    def windows_at(peaks: np.ndarray) -> np.ndarray:
        w = energy[np.clip(peaks[:, None] + offsets[None, :], 0, energy.size - 1)]
        w = w - w.mean(axis=1, keepdims=True)
        return np.asarray(w / np.maximum(np.linalg.norm(w, axis=1, keepdims=True), 1e-12))

    def aligned_to(template: np.ndarray, peaks: np.ndarray) -> np.ndarray:
        template = template - template.mean()
        sidx = np.clip(
            peaks[:, None, None] + shifts[None, :, None] + offsets[None, None, :], 0, energy.size - 1
        )
        w = energy[sidx]  # (beats, shifts, window)
        w = w - w.mean(axis=2, keepdims=True)
        score = (w @ template) / np.maximum(np.linalg.norm(w, axis=2), 1e-12)
        return np.asarray(np.clip(peaks + shifts[np.argmax(score, axis=1)], margin, energy.size - margin - 1))

    w = windows_at(r_peaks)
    typical = int(np.argmax((w @ w.T).mean(axis=1)))
    first = aligned_to(w[typical], r_peaks)
    return aligned_to(sort_median(windows_at(first), axis=0), first)
