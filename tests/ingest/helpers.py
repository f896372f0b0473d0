"""Test recordings: real ones from ../shared/data when present, else synthetic ECG-like signals."""

from __future__ import annotations

import numpy as np

from schemas import Recording


def synthetic_recording(seconds: float = 10.0, fs: float = 500.0, seed: int = 0, **kwargs) -> Recording:
    """An ECG-like (12, N) mV signal with consistent limb leads (Einthoven/Goldberger hold exactly)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * fs)
    t = np.arange(n) / fs
    qrs = np.exp(-(((t % 0.85) - 0.3) ** 2) / (2 * 0.012**2))
    twave = 0.3 * np.exp(-(((t % 0.85) - 0.6) ** 2) / (2 * 0.05**2))
    base = qrs + twave
    lead_i = 0.6 * base + rng.normal(0, 0.01, n)
    lead_ii = 1.1 * base + rng.normal(0, 0.01, n)
    limb = [
        lead_i,
        lead_ii,
        lead_ii - lead_i,
        -(lead_i + lead_ii) / 2,
        lead_i - lead_ii / 2,
        lead_ii - lead_i / 2,
    ]
    chest = [base * g + rng.normal(0, 0.01, n) for g in (-0.8, -0.5, 0.4, 1.2, 1.5, 1.0)]
    return Recording(signal=np.stack(limb + chest).astype(np.float32), fs=fs, **kwargs)
