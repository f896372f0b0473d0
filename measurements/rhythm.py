"""Rate and rhythm from the beats: dominant-rhythm heart rate, RR mean/SD, an irregularity index.

- Heart rate: the ventricular rate, every QRS over the recording (60 / the mean of all RR intervals,
  premature beats included), as carts print it; a sinus tachycardia with premature beats is then
  above 100 bpm as on the cart. The dominant RR (for the median beat's window and the QT correction)
  is the median N-N interval (RR between two consecutive dominant-rhythm beats), so premature beats
  and their pauses do not pull it; with fewer than 2 N-N intervals (bigeminy), the median of the
  intervals that end at a dominant beat (the post-ectopic cycles), else of all; in an irregular
  rhythm (atrial fibrillation-like, see below) the mean of all RR intervals.
- Atrial (sinus) rate: 60 / the median N-N interval between consecutive dominant beats that both have
  a P wave (``atrial_rate``); None without P waves.
- RR mean and SD: over the N-N intervals (the dominant rhythm's variability; sinus arrhythmia shows
  here), or over all intervals where fewer than 2 N-N intervals exist.
- Irregularity index (``rr_irregularity``): median |RR(i+1) - RR(i)| / median RR, over the N-N
  intervals (between consecutive dominant beats) where at least 3 exist, else over all intervals.
  Premature beats and their pauses are left out, so frequent ectopy does not look irregular, and
  the median makes it robust to a missed premature beat; it stays large when every interval
  differs: sinus rhythm < ~0.05, atrial fibrillation typically > 0.12 (``IRREGULAR_INDEX``), where
  no beat is called premature (every interval differs) and the rate is the mean ventricular rate.
"""

from __future__ import annotations

import numpy as np

from measurements.order_stats import sort_median

__all__ = [
    "IRREGULAR_INDEX",
    "RhythmFigures",
    "dominant_irregularity",
    "irregularity_index",
    "rhythm_figures",
    "atrial_rate",
]

# Above this index the rhythm is treated as irregularly irregular (no dominant RR for prematurity).
IRREGULAR_INDEX = 0.12


def irregularity_index(rr_s: np.ndarray) -> float | None:
    """Median absolute successive RR difference over the median RR; None with < 3 intervals."""
    if rr_s.size < 3:
        return None
    return float(sort_median(np.abs(np.diff(rr_s))) / sort_median(rr_s))


def dominant_irregularity(rr_s: np.ndarray, classes: tuple[str, ...]) -> float | None:
    """The irregularity index over the N-N intervals (>= 3 of them); in a rhythm dominated by
    premature beats (bigeminy) over their coupling intervals (>= 3; fixed coupling is regular);
    else over all intervals."""
    normal = np.array([c == "N" for c in classes])
    premature = np.array([c in ("S", "V") for c in classes])
    nn = rr_s[normal[:-1] & normal[1:]]
    coupling = rr_s[premature[1:]]
    if nn.size >= 3:
        return irregularity_index(nn)
    return irregularity_index(coupling if coupling.size >= 3 else rr_s)


class RhythmFigures:
    """Heart rate (bpm) and RR statistics (ms) with the reason where something is missing."""

    def __init__(self) -> None:
        self.heart_rate_bpm: float | None = None
        self.rr_mean_ms: float | None = None
        self.rr_sd_ms: float | None = None
        self.dominant_rr_s: float | None = None
        self.missing: dict[str, str] = {}


def rhythm_figures(
    r_peaks: np.ndarray, classes: tuple[str, ...], fs: float, *, irregular: bool
) -> RhythmFigures:
    """Rate and RR statistics by the rules in the module docstring."""
    out = RhythmFigures()
    if r_peaks.size < 3:
        for name in ("heart_rate_bpm", "rr_mean_ms", "rr_sd_ms"):
            out.missing[name] = "too_few_beats"
        return out
    rr = np.diff(r_peaks).astype(float) / fs
    normal = np.array([c == "N" for c in classes])
    nn = rr[normal[:-1] & normal[1:]]
    ending_normal = rr[normal[1:]]  # includes the pauses after premature beats
    basis = nn if nn.size >= 2 else ending_normal if ending_normal.size >= 2 else rr
    if irregular:
        dominant = float(np.mean(rr))
    else:
        dominant = float(sort_median(basis))
    out.dominant_rr_s = dominant
    out.heart_rate_bpm = 60.0 / float(np.mean(rr))
    out.rr_mean_ms = 1000.0 * float(np.mean(basis))
    out.rr_sd_ms = 1000.0 * float(np.std(basis, ddof=1)) if basis.size >= 2 else None
    if out.rr_sd_ms is None:
        out.missing["rr_sd_ms"] = "too_few_beats"
    return out


def atrial_rate(r_peaks: np.ndarray, classes: tuple[str, ...], p_present: np.ndarray, fs: float) -> float | None:
    """60 / the median interval between consecutive dominant beats that both carry a P wave (bpm);
    None with fewer than 2 such intervals."""
    if r_peaks.size < 3:
        return None
    with_p = np.array([c == "N" for c in classes]) & np.asarray(p_present, dtype=bool)
    pp = np.diff(r_peaks).astype(float)[with_p[:-1] & with_p[1:]] / fs
    return 60.0 / float(sort_median(pp)) if pp.size >= 2 else None
