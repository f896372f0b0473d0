"""Per-lead signal-quality features of a raw 12-lead recording, vectorised over leads.

Every feature is a (12,) array computed in one pass over the (12, N) signal; ``measurements.quality``
turns them into reason codes. Units are those of the input (mV for a raw recording); features whose
name ends in ``_ratio`` are dimensionless.

- ``ptp``: peak-to-peak amplitude.
- ``longest_constant_s``: the longest run of exactly repeated samples away from the lead's
  extremes, seconds (a lost or disconnected electrode reads as a constant line; a zeroed lead has
  ptp 0 and no extremes, so all of it counts).
- ``rail_runs`` / ``rail_longest_s``: runs of samples EXACTLY at the lead's own maximum or minimum
  (at least 8 ms long, at least 250 ms apart: one per beat), and the longest of them in seconds. An amplifier or ADC at its rail holds
  one value every time the signal exceeds it, so clipped R peaks give one run per beat; a real
  extreme is reached once (a broad flat T wave can hold its maximum for ~20 ms, once).
- ``wander``: peak-to-peak of the baseline, estimated as the medians of consecutive 1-s blocks (the
  median of a block of ECG sits near the isoelectric level; respiration-driven wander is 0.1-0.5 Hz).
- ``noise_rms``: RMS of the part above 40 Hz (mains harmonics notched out), taken as the MEDIAN over
  100-ms windows, so QRS complexes (which have some energy above 40 Hz for 10 % of the time) do not
  count; EMG spans 20-500 Hz (Clifford et al. 2012, Physiol Meas 33:1419) so this tracks muscle noise.
- ``qrs_amplitude``: robust peak-to-peak of the 5-30 Hz band (99.5th minus 0.5th percentile),
  where QRS complexes carry most of their energy; ``qrs_band`` is that band itself (the beat
  detector reuses it).
- ``mains_amplitude``: for 50 and 60 Hz, the amplitude of a sinusoid carrying the narrow-band power
  (+-0.5 Hz) in excess of the neighbouring bands, and ``mains_ratio`` that power over the
  neighbours' level. A mains frequency closer than 2 Hz to Nyquist (or above it) is checked at its
  alias; if the alias is below 2 Hz or near Nyquist it is not checked (NaN).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import fft as sp_fft

from measurements.order_stats import sort_median

__all__ = ["MAINS_HZ", "QualityFeatures", "quality_features"]

MAINS_HZ = (50.0, 60.0)
_NOISE_LOW_HZ = 40.0
_NOTCH_HALF_WIDTH_HZ = 1.0
_MAINS_HALF_WIDTH_HZ = 0.5
_NEIGHBOUR_HZ = (1.5, 6.0)  # neighbour band: 1.5-6 Hz away from the mains frequency, both sides
_WANDER_BLOCK_S = 1.0
_NOISE_WINDOW_S = 0.1
_RAIL_MIN_RUN_S = 0.008
_RAIL_MIN_GAP_S = 0.25


@dataclass(frozen=True)
class QualityFeatures:
    """Quality features, one value per lead (see the module docstring)."""

    fs: float
    finite: np.ndarray  # (L,) bool
    ptp: np.ndarray
    longest_constant_s: np.ndarray
    rail_runs: np.ndarray
    rail_longest_s: np.ndarray
    wander: np.ndarray
    noise_rms: np.ndarray
    qrs_amplitude: np.ndarray
    qrs_band: np.ndarray  # (L, N) 5-30 Hz band, zero phase
    mains_amplitude: dict[float, np.ndarray]  # Hz -> (L,), NaN where not checkable
    mains_ratio: dict[float, np.ndarray]


def _true_runs(mask: np.ndarray, min_length: int = 1, min_gap: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Per row of a 2-D bool array: the longest run of consecutive True, and how many runs are at
    least ``min_length`` long and start at least ``min_gap`` samples after the previous one counted
    (vectorised over the flattened run edges; the count loops over the few long runs only)."""
    rows, n = mask.shape
    padded = np.zeros((rows, n + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    edges = np.diff(padded, axis=1).ravel()  # +1 at a run start, -1 one past its end
    flat = np.flatnonzero(edges)
    starts, ends = flat[edges[flat] > 0], flat[edges[flat] < 0]  # alternate within each row
    lengths = ends - starts
    row = starts // (n + 1)
    longest = np.zeros(rows, dtype=np.int64)
    np.maximum.at(longest, row, lengths)
    long_enough = lengths >= min_length
    if min_gap <= 0:
        return longest, np.bincount(row[long_enough], minlength=rows)
    count = np.zeros(rows, dtype=np.int64)
    last = np.full(rows, -(10**12))
    for r, start in zip(row[long_enough], starts[long_enough], strict=True):
        if start - last[r] >= min_gap:
            count[r] += 1
            last[r] = start
    return longest, count


def _checkable_frequency(freq: float, fs: float) -> float | None:
    """Where a mains frequency appears in a spectrum sampled at ``fs`` (its alias), or None."""
    nyquist = fs / 2.0
    alias = abs(freq - round(freq / fs) * fs)
    margin = _NEIGHBOUR_HZ[1] + 0.5
    if alias < margin or alias > nyquist - margin:
        return None
    return alias


@dataclass(frozen=True)
class _Bands:
    """Frequency masks of a length-``n`` real spectrum at ``fs``: fixed per (n, fs), so cached."""

    high: np.ndarray  # >= 40 Hz, mains harmonics notched out
    qrs: np.ndarray  # 5-30 Hz
    mains: dict[float, tuple[np.ndarray, np.ndarray] | None]  # Hz -> (peak, neighbour) bins


@lru_cache(maxsize=16)
def _bands(n: int, fs: float) -> _Bands:
    freqs = np.fft.rfftfreq(n, 1.0 / fs)
    notch = np.zeros_like(freqs, dtype=bool)
    for hz in MAINS_HZ:
        harmonics = np.arange(hz, freqs[-1] + hz, hz)
        notch |= (np.abs(freqs[:, None] - harmonics[None, :]) <= _NOTCH_HALF_WIDTH_HZ).any(axis=1)
    mains: dict[float, tuple[np.ndarray, np.ndarray] | None] = {}
    for hz in MAINS_HZ:
        at = _checkable_frequency(hz, fs)
        if at is None:
            mains[hz] = None
            continue
        distance = np.abs(freqs - at)
        peak = distance <= _MAINS_HALF_WIDTH_HZ
        mains[hz] = (peak, (distance >= _NEIGHBOUR_HZ[0]) & (distance <= _NEIGHBOUR_HZ[1]))
    bands = _Bands((freqs >= _NOISE_LOW_HZ) & ~notch, (freqs >= 5.0) & (freqs <= 30.0), mains)
    for mask in (bands.high, bands.qrs, *(m for pair in mains.values() if pair for m in pair)):
        mask.flags.writeable = False
    return bands


def _power(spectrum: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """Power of the selected bins, float64 (the squares are taken in the spectrum's precision)."""
    s = spectrum[:, bins]
    return (s.real**2 + s.imag**2).astype(np.float64)


def _mains(spectrum: np.ndarray, bands: _Bands, n: int) -> tuple[dict, dict]:
    amplitude: dict[float, np.ndarray] = {}
    ratio: dict[float, np.ndarray] = {}
    leads = spectrum.shape[0]
    for hz in MAINS_HZ:
        pair = bands.mains[hz]
        if pair is None:
            amplitude[hz] = ratio[hz] = np.full(leads, np.nan)
            continue
        peak, neighbour = pair
        level = sort_median(_power(spectrum, neighbour))  # per-bin power of the neighbourhood
        peak_power = _power(spectrum, peak)
        excess = np.clip(peak_power.sum(axis=1) - level * peak.sum(), 0.0, None)
        # One-sided rfft: a sinusoid of amplitude A carries (A N / 2)^2 in total.
        amplitude[hz] = 2.0 * np.sqrt(excess) / n
        ratio[hz] = peak_power.mean(axis=1) / np.maximum(level, 1e-30)
    return amplitude, ratio


def quality_features(signal: np.ndarray, fs: float) -> QualityFeatures:
    """Features of a (L, N) signal at ``fs`` Hz; non-finite samples are read as 0 (and flagged)."""
    x = np.asarray(signal, dtype=np.float64)
    finite: np.ndarray = np.asarray(np.isfinite(x).all(axis=1))
    if not finite.all():
        x = np.where(np.isfinite(x), x, 0.0)
    leads, n = x.shape
    hi = x.max(axis=1)
    lo = x.min(axis=1)
    ptp = hi - lo

    at_rail = ((x == hi[:, None]) | (x == lo[:, None])) & (ptp[:, None] > 0)
    constant = (np.diff(x, axis=1) == 0.0) & ~at_rail[:, 1:]  # a value held at the rail is clipping
    longest_constant_s = (_true_runs(constant)[0] + 1) / fs
    rail_longest, rail_runs = _true_runs(
        at_rail, max(2, int(round(_RAIL_MIN_RUN_S * fs))), int(round(_RAIL_MIN_GAP_S * fs))
    )

    block = max(1, int(round(_WANDER_BLOCK_S * fs)))
    blocks = n // block
    if blocks >= 2:
        # Every 4th sample is plenty for a median of 1 s of signal (and 4x cheaper).
        medians = sort_median(x[:, : blocks * block].reshape(leads, blocks, block)[:, :, ::4])
        wander = medians.max(axis=1) - medians.min(axis=1)
    else:
        wander = np.full(leads, np.nan)

    # Single precision is plenty for these ratios and halves the FFT time.
    spectrum = sp_fft.rfft((x - x.mean(axis=1, keepdims=True)).astype(np.float32), axis=1)
    bands = _bands(n, float(fs))
    if fs / 2.0 > _NOISE_LOW_HZ + 5.0:
        high = sp_fft.irfft(spectrum * bands.high, n=n, axis=1)
        window = max(1, int(round(_NOISE_WINDOW_S * fs)))
        windows = n // window
        rms = np.sqrt((high[:, : windows * window].reshape(leads, windows, window) ** 2).mean(axis=2))
        noise_rms = sort_median(rms)
    else:
        noise_rms = np.full(leads, np.nan)
    qrs_band = sp_fft.irfft(spectrum * bands.qrs, n=n, axis=1)
    p_lo, p_hi = np.percentile(qrs_band[:, ::2], [0.5, 99.5], axis=1)

    mains_amplitude, mains_ratio = _mains(spectrum, bands, n)
    return QualityFeatures(
        fs=float(fs),
        finite=finite,
        ptp=ptp,
        longest_constant_s=longest_constant_s,
        rail_runs=rail_runs,
        rail_longest_s=rail_longest / fs,
        wander=wander,
        noise_rms=noise_rms,
        qrs_amplitude=p_hi - p_lo,
        qrs_band=qrs_band,
        mains_amplitude=mains_amplitude,
        mains_ratio=mains_ratio,
    )
