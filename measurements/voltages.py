"""Per-lead QRS voltages on the median beat (relative to the PR baseline), the Sokolow-Lyon and
Cornell voltage criteria, and the ST level at the J point and at J + 60 ms.

- Sokolow-Lyon (Sokolow & Lyon 1949): S(V1) + max(R(V5), R(V6)).
- Cornell (Casale et al. 1985): R(aVL) + S(V3).
"""

from __future__ import annotations

import numpy as np

__all__ = ["Voltages", "voltages"]

AVL, V1, V3, V5, V6 = 4, 6, 8, 10, 11  # STANDARD_LEADS indices


class Voltages:
    def __init__(self, n_leads: int = 12) -> None:
        self.qrs_amplitude_mv: tuple[float | None, ...] = (None,) * n_leads
        self.r_amplitude_mv: tuple[float | None, ...] = (None,) * n_leads
        self.s_amplitude_mv: tuple[float | None, ...] = (None,) * n_leads
        self.st_j_mv: tuple[float | None, ...] = (None,) * n_leads
        self.st_j60_mv: tuple[float | None, ...] = (None,) * n_leads
        self.sokolow_lyon_mv: float | None = None
        self.cornell_mv: float | None = None


def _tuple(values: np.ndarray) -> tuple[float | None, ...]:
    return tuple(round(float(v), 4) for v in values)


def voltages(waves: np.ndarray, base: np.ndarray, qrs_on: int, qrs_off: int, fs: float) -> Voltages:
    """QRS amplitudes, ST(J) and ST(J+60) per lead of the (12, L) median beat; the J point is the
    global QRS offset ``qrs_off`` (4th universal definition of MI: ST elevation at the J point)."""
    out = Voltages(waves.shape[0])
    qrs = waves[:, qrs_on : qrs_off + 1] - base[:, None]
    r = np.maximum(qrs.max(axis=1), 0.0)
    s = np.maximum(-qrs.min(axis=1), 0.0)
    out.r_amplitude_mv, out.s_amplitude_mv = _tuple(r), _tuple(s)
    out.qrs_amplitude_mv = _tuple(qrs.max(axis=1) - qrs.min(axis=1))
    out.st_j_mv = _tuple(waves[:, qrs_off] - base)
    j60 = qrs_off + int(round(0.06 * fs))
    if j60 < waves.shape[1]:
        out.st_j60_mv = _tuple(waves[:, j60] - base)
    out.sokolow_lyon_mv = round(float(s[V1] + max(r[V5], r[V6])), 4)
    out.cornell_mv = round(float(r[AVL] + s[V3]), 4)
    return out
