"""Whether a recording's amplitudes are physiological millivolts or were scaled lead by lead.

Some sources normalise every lead on its own before the recording reaches us: z-scored per lead
(ptbxl-sph: every lead's standard deviation 1) or scaled to the same peak-to-peak in every lead
(LUDB 1.0.1: every lead spans exactly 1 mV). Timing survives such scaling, amplitudes do not: low
voltage, hypertrophy voltage criteria and ST-elevation thresholds would then be read off numbers
that are not millivolts. In real millivolt recordings the leads' amplitudes differ by factors of 2
to 10 (a lead's amplitude is its projection of the heart's dipole), so 12 leads equal to within 2 %
do not happen by chance.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SAME_SCALE_TOLERANCE", "amplitudes_in_mv"]

SAME_SCALE_TOLERANCE = 0.02
MIN_ACTIVE_LEADS = 6


def _all_equal(values: np.ndarray) -> bool:
    return bool(values.size >= MIN_ACTIVE_LEADS and values.max() <= values.min() * (1.0 + SAME_SCALE_TOLERANCE))


def amplitudes_in_mv(signal: np.ndarray) -> bool:
    """False when the leads were scaled one by one (same standard deviation or the same peak-to-peak
    in every active lead); True otherwise."""
    x = np.asarray(signal, dtype=np.float64)
    if x.ndim != 2 or not np.isfinite(x).all():
        return True
    span = np.ptp(x, axis=1)
    active = span > 0
    return not (_all_equal(span[active]) or _all_equal(x[active].std(axis=1)))
