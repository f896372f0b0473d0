"""Frontal-plane P, QRS and T axes: a least-squares frontal vector from the net areas of the six limb
leads over the wave (hexaxial projections), angle in degrees (0 = lead I, +90 = aVF, -180..180).

With leads I = Ex and II = Ex/2 + (sqrt 3/2) Ey, the other limb leads follow from Einthoven's and
Goldberger's equations; fitting all six averages out noise in any one lead.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["frontal_axis"]

_S3 = math.sqrt(3.0)
# Rows: I, II, III, aVR, aVL, aVF; columns: Ex, Ey.
_PROJECTION = np.array(
    [[1.0, 0.0], [0.5, _S3 / 2], [-0.5, _S3 / 2], [-0.75, -_S3 / 4], [0.75, -_S3 / 4], [0.0, _S3 / 2]]
)
_PINV = np.linalg.pinv(_PROJECTION)
# Below this net-area magnitude (mV*ms) the vector has no reliable direction.
MIN_AREA_MV_MS = 2.0


def frontal_axis(
    waves: np.ndarray, base: np.ndarray, start: int, stop: int, fs: float, usable: np.ndarray | None = None
) -> float | None:
    """Axis (degrees) of the wave between samples ``start`` and ``stop`` of the median beat; None when
    the frontal vector is too small to have a direction, or fewer than 2 limb leads are ``usable``
    (6 bools; the fit uses only those)."""
    rows = np.ones(6, dtype=bool) if usable is None else np.asarray(usable[:6], dtype=bool)
    if stop <= start or int(rows.sum()) < 2:
        return None
    areas = (waves[:6, start:stop] - base[:6, None]).sum(axis=1) * (1000.0 / fs)  # mV*ms
    pinv = _PINV if rows.all() else np.linalg.pinv(_PROJECTION[rows])
    ex, ey = pinv @ areas[rows]
    if math.hypot(ex, ey) < MIN_AREA_MV_MS:
        return None
    return math.degrees(math.atan2(ey, ex))
