"""Zero-phase filters for measuring: a diagnostic band (baseline wander and high-frequency noise out,
wave timing kept) and a QRS-detection band. Vectorised over leads; cached designs per rate."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import signal as sps

__all__ = ["amplitude_band", "detection_band", "diagnostic_band"]

# AHA 2007 allows zero-phase high-pass up to 0.67 Hz without ST distortion; 40 Hz keeps wave timing
# on the median beat (averaging removes the rest of the noise).
DIAGNOSTIC_HZ = (0.5, 40.0)
DETECTION_HZ = (8.0, 25.0)
# Amplitudes (voltage criteria) need the diagnostic bandwidth's upper end: a 40 Hz low-pass shaves
# R and S peaks. 150 Hz is the AHA diagnostic upper limit (capped at 0.9 Nyquist).
AMPLITUDE_HZ = (0.5, 150.0)


@lru_cache(maxsize=32)
def _band(fs: float, low: float, high: float, order: int) -> np.ndarray:
    nyquist = fs / 2.0
    high = min(high, 0.9 * nyquist)
    return np.asarray(sps.butter(order, [low / nyquist, high / nyquist], btype="bandpass", output="sos"))


def _filter(x: np.ndarray, fs: float, band: tuple[float, float], order: int) -> np.ndarray:
    sos = _band(float(fs), band[0], band[1], order)
    padlen = min(x.shape[-1] - 1, int(fs))
    return np.asarray(sps.sosfiltfilt(sos, x, axis=-1, padlen=padlen))


def diagnostic_band(x: np.ndarray, fs: float) -> np.ndarray:
    """0.5-40 Hz zero-phase band-pass of (leads, samples) or (samples,) signals."""
    return _filter(x, fs, DIAGNOSTIC_HZ, 2)


def amplitude_band(x: np.ndarray, fs: float) -> np.ndarray:
    """0.5-150 Hz zero-phase band-pass: the signal QRS voltages are measured on."""
    return _filter(x, fs, AMPLITUDE_HZ, 2)


def detection_band(x: np.ndarray, fs: float) -> np.ndarray:
    """8-25 Hz zero-phase band-pass: the QRS energy band used to find beats."""
    return _filter(x, fs, DETECTION_HZ, 2)
