"""Synthetic 12-lead beats with known timing and frontal axis, for pure measurement tests."""

from __future__ import annotations

import math

import numpy as np

FS = 500.0
# Limb-lead projections of a frontal vector (Ex, Ey): I, II, III, aVR, aVL, aVF.
_S3 = math.sqrt(3.0)
LIMB = np.array(
    [[1.0, 0.0], [0.5, _S3 / 2], [-0.5, _S3 / 2], [-0.75, -_S3 / 4], [0.75, -_S3 / 4], [0.0, _S3 / 2]]
)
PRECORDIAL_GAIN = np.array([-0.8, -0.4, 0.3, 0.8, 1.0, 0.9])


def _lead_gains(axis_deg: float) -> np.ndarray:
    a = math.radians(axis_deg)
    limb = LIMB @ np.array([math.cos(a), math.sin(a)])
    return np.concatenate([limb, PRECORDIAL_GAIN])


def _hann_bump(n: int, start: float, width: float, fs: float) -> np.ndarray:
    t = np.arange(n) / fs
    x = (t - start) / width
    return np.where((x >= 0) & (x <= 1), np.sin(np.pi * np.clip(x, 0, 1)) ** 2, 0.0)


def beat_train(
    r_times: list[float],
    duration_s: float = 10.0,
    *,
    pr_s: float = 0.16,
    qrs_s: float = 0.09,
    qt_s: float = 0.38,
    qrs_axis: float = 60.0,
    p_axis: float = 50.0,
    t_axis: float = 40.0,
    wide: set[int] | None = None,
    no_p: set[int] | None = None,
) -> np.ndarray:
    """(12, N) mV: each beat a P bump, a QRS bump, a T bump with the given boundaries (QRS onset at
    r_time - qrs_s/2). Beats in ``wide`` get a 160-ms inverted QRS and no P (ventricular)."""
    n = int(duration_s * FS)
    sig = np.zeros((12, n))
    wide, no_p = wide or set(), no_p or set()
    for k, r in enumerate(r_times):
        on = r - qrs_s / 2
        if k in wide:
            sig += np.outer(_lead_gains(qrs_axis + 150), 1.6 * _hann_bump(n, r - 0.08, 0.16, FS))
            sig += np.outer(_lead_gains(t_axis + 180), 0.4 * _hann_bump(n, r + 0.12, 0.26, FS))
            continue
        if k not in no_p:
            sig += np.outer(_lead_gains(p_axis), 0.15 * _hann_bump(n, on - pr_s, 0.10, FS))
        sig += np.outer(_lead_gains(qrs_axis), 1.2 * _hann_bump(n, on, qrs_s, FS))
        t_start = on + qt_s - 0.20
        sig += np.outer(_lead_gains(t_axis), 0.35 * _hann_bump(n, t_start, 0.20, FS))
    return sig
