"""Atrial flutter waves: regular atrial activity that goes on between and under the QRS complexes.

Flutter waves repeat at one fixed cycle (typical flutter 240-340/min, slowed by drugs to about
200/min) with no isoelectric line between them; fibrillatory waves change cycle and shape from one
wave to the next. So, with the ventricular activity removed, a flutter lead looks like itself
shifted by one, two and three atrial cycles, and a fibrillation lead does not.

``atrial_waves``:

1. band-pass 2-20 Hz (the flutter wave and its first harmonics; baseline and muscle noise out);
2. cancel the QRS-T: subtract the median beat (100 ms before to 450 ms after each R, cut short at
   the next beat) from every beat. Waves not locked to the QRS (flutter with variable conduction,
   fibrillation) survive; P waves of a conducted rhythm do not;
3. blank the QRS itself (60 ms before to 80 ms after R), where small misalignments leave spikes;
4. per lead, the autocorrelation of what is left (over the samples that are not blanked), and for
   each candidate cycle L the *organisation* min(r(L), r(2L), r(3L)): the waves must repeat for
   three cycles;
5. the record's organisation at L is that of its second-best lead (two leads must agree on the
   cycle, an artefact in one lead is not enough); its atrial cycle is the shortest L where that
   curve peaks near its maximum (a wave repeating every L repeats every 2L too), searched from 90
   to 330 ms; flutter only where that cycle lies in ``CYCLE_RANGE_MS``.

Measured on the shared records (``benchmarks/validate_flutter.py``, docs/measurements.md): LUDB's
typical flutter with variable conduction (52) 0.58 at 222 ms; the 106 ptbxl-sph and 9 LUDB
fibrillation records are below ``MIN_ORGANISATION`` or faster than the flutter range. Flutter at a
fixed 2:1 ratio is locked to the QRS and cancelled with it: it is not found here (the rhythm stays
"undetermined", never fibrillation, because its atrial activity is coherent before each QRS).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, sosfiltfilt

__all__ = ["CYCLE_RANGE_MS", "MIN_ORGANISATION", "AtrialWaves", "atrial_waves"]

BAND_HZ = (2.0, 20.0)
BEAT_BEFORE_S, BEAT_AFTER_S = 0.10, 0.45
BLANK_BEFORE_S, BLANK_AFTER_S = 0.06, 0.08
# Flutter's atrial cycle: 180-300 ms (200-333/min). Faster atrial activity is fibrillation's range
# (coarse fibrillation at 300-350/min repeats for a few cycles too, ptbxl-sph P05374, P10515).
CYCLE_RANGE_MS = (180.0, 300.0)
SHORTEST_CYCLE_MS = 90.0  # the curve starts here: a faster wave also repeats at twice its cycle
LONGEST_SEARCH_MS = 330.0  # ... and ends beyond the range, to tell a peak from an edge
NEAR_BEST = 0.85  # the fundamental: the shortest cycle whose peak reaches this share of the best
MULTIPLE_TOLERANCE_MS = 8.0  # per multiple of the cycle: the cycle wobbles a little
REPEATS = 3
MIN_ORGANISATION = 0.5
RANKED_LEAD = 2
MIN_BEATS = 4


@dataclass(frozen=True)
class AtrialWaves:
    """The dominant atrial cycle between the QRS complexes and how regularly it repeats."""

    cycle_ms: float
    organisation: float  # the second-best lead's min autocorrelation over 1..REPEATS cycles

    @property
    def rate_per_min(self) -> float:
        return 60000.0 / self.cycle_ms

    @property
    def is_flutter(self) -> bool:
        return self.organisation >= MIN_ORGANISATION


def _qrst_cancelled(x: np.ndarray, r_peaks: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """The signal with each beat's median QRS-T subtracted, and the mask of samples not blanked."""
    before, after = int(round(BEAT_BEFORE_S * fs)), int(round(BEAT_AFTER_S * fs))
    n = x.shape[1]
    inside = r_peaks[(r_peaks - before >= 0) & (r_peaks + after < n)]
    template = np.median(np.stack([x[:, r - before : r + after] for r in inside], axis=1), axis=1)
    residual = x.copy()
    keep = np.ones(n, dtype=bool)
    for i, r in enumerate(r_peaks):
        start, stop = r - before, r + after
        if i + 1 < r_peaks.size:
            stop = min(stop, int(r_peaks[i + 1]) - before)
        lo, hi = max(start, 0), min(stop, n)
        if hi > lo:
            residual[:, lo:hi] -= template[:, lo - start : hi - start]
        keep[max(0, r - int(round(BLANK_BEFORE_S * fs))) : r + int(round(BLANK_AFTER_S * fs))] = False
    return residual * keep, keep


def _masked_autocorrelation(s: np.ndarray, keep: np.ndarray, max_lag: int) -> np.ndarray:
    """Normalised autocorrelation of ``s`` (zero where not kept) for lags 0..max_lag, per row: each
    lag's products over the pairs of kept samples, normalised by those samples' energies."""
    n = s.shape[-1]
    size = 1 << int(np.ceil(np.log2(2 * n)))
    m = keep.astype(np.float64)
    fs_, fe, fm = np.fft.rfft(s, size), np.fft.rfft(s * s, size), np.fft.rfft(m, size)
    num = np.fft.irfft(fs_ * np.conj(fs_), size)[..., : max_lag + 1]
    early = np.fft.irfft(fe * np.conj(fm), size)[..., : max_lag + 1]  # sum_t e[t] m[t+L]
    late = np.fft.irfft(fm * np.conj(fe), size)[..., : max_lag + 1]  # sum_t m[t] e[t+L]
    return num / np.sqrt(np.maximum(early * late, 1e-24))


def atrial_waves(
    filtered: np.ndarray, r_peaks: np.ndarray, fs: float, usable: np.ndarray | None = None
) -> AtrialWaves | None:
    """The atrial cycle and organisation of the activity between the QRS complexes (module
    docstring); None with fewer than ``MIN_BEATS`` beats, too few usable leads or no peak inside
    the flutter range."""
    r_peaks = np.asarray(r_peaks, dtype=np.int64)
    leads = [k for k in range(filtered.shape[0]) if usable is None or usable[k]]
    if r_peaks.size < MIN_BEATS or len(leads) < RANKED_LEAD or fs < 2.5 * BAND_HZ[1]:
        return None
    x = sosfiltfilt(butter(2, BAND_HZ, btype="band", fs=fs, output="sos"), filtered[leads], axis=1)
    residual, keep = _qrst_cancelled(x, r_peaks, fs)
    low, high = (int(round(v * fs / 1000.0)) for v in (SHORTEST_CYCLE_MS, LONGEST_SEARCH_MS))
    tolerance = max(1, int(round(MULTIPLE_TOLERANCE_MS * fs / 1000.0)))
    max_lag = REPEATS * (high + tolerance)
    if max_lag >= x.shape[1] // 2:
        return None
    acf = _masked_autocorrelation(residual, keep, max_lag)
    lags = np.arange(low, high + 1)
    repeats = [acf[:, lags]]
    for k in range(2, REPEATS + 1):
        windows = np.stack([acf[:, k * lags + d] for d in range(-k * tolerance, k * tolerance + 1)])
        repeats.append(windows.max(axis=0))
    organisation = np.min(np.stack(repeats), axis=0)  # (leads, lags)
    curve = np.sort(organisation, axis=0)[-RANKED_LEAD]
    best = _fundamental(curve)
    cycle_ms = float(lags[best]) * 1000.0 / fs
    if not CYCLE_RANGE_MS[0] <= cycle_ms <= CYCLE_RANGE_MS[1]:
        return None
    return AtrialWaves(cycle_ms=cycle_ms, organisation=float(curve[best]))


def _fundamental(curve: np.ndarray) -> int:
    """Index of the peak of the shortest-cycle stretch of ``curve`` that reaches ``NEAR_BEST`` of its
    maximum (a wave that repeats every L also repeats every 2L: the cycle is the shortest)."""
    top = float(curve.max())
    if top <= 0:
        return int(np.argmax(curve))
    above = curve >= NEAR_BEST * top
    start = int(np.argmax(above))
    stop = start + int(np.argmin(above[start:])) if not above[start:].all() else curve.size
    return start + int(np.argmax(curve[start:stop]))
