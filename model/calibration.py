"""Per-label probability calibration and decision thresholds from out-of-fold (OOF) predictions.

Calibration: Platt scaling per label, p_cal = sigmoid(slope * logit(p) + intercept), fitted by
L2-regularised maximum likelihood on OOF probabilities (a temperature 1/slope plus a bias: the bias
undoes the prevalence inflation of the positive-weighted training loss). Labels with fewer than
``min_positives`` OOF positives keep the identity (slope 1, intercept 0). Monotone per label, so
per-label ranking (AUROC) is unchanged.

Thresholds (on calibrated probabilities): ``prevalence_thresholds`` (shipped) and the
alternatives compared in ``model.training.oof_rules``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

__all__ = [
    "Calibration",
    "fit_platt",
    "expected_calibration_error",
    "choose_calibrated_thresholds",
    "f1_optimal_threshold",
    "prevalence_threshold",
    "THRESHOLD_BOUNDS",
    "PREVALENCE_BOUNDS",
    "prevalence_thresholds",
    "MIN_POSITIVES",
]

MIN_POSITIVES = 10  # fewest positives for a label to be calibrated, thresholded or scored (training too)
_EPS = 1e-6
THRESHOLD_BOUNDS = (0.1, 0.9)
PREVALENCE_BOUNDS = (0.05, 0.95)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), _EPS, 1 - _EPS)
    return np.log(p) - np.log1p(-p)


@dataclass(frozen=True)
class Calibration:
    """Per-label Platt parameters; ``apply`` maps raw (B, L) probabilities to calibrated ones."""

    slope: np.ndarray  # (L,)
    intercept: np.ndarray  # (L,)

    @classmethod
    def identity(cls, n_labels: int) -> Calibration:
        return cls(np.ones(n_labels, np.float32), np.zeros(n_labels, np.float32))

    def apply(self, p: np.ndarray) -> np.ndarray:
        if not np.any(self.slope != 1) and not np.any(self.intercept != 0):
            return np.asarray(p, dtype=np.float32)
        z = _logit(p) * self.slope + self.intercept
        return (1.0 / (1.0 + np.exp(-z))).astype(np.float32)

    def to_dict(self) -> dict:
        return {"kind": "platt", "slope": [float(v) for v in self.slope],
                "intercept": [float(v) for v in self.intercept]}  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict) -> Calibration:
        if d.get("kind") != "platt":
            raise ValueError(f"unsupported calibration kind {d.get('kind')!r}")
        return cls(np.asarray(d["slope"], np.float32), np.asarray(d["intercept"], np.float32))


def _platt_one(z: np.ndarray, y: np.ndarray, l2: float) -> tuple[float, float]:
    """Minimise mean BCE of sigmoid(a z + b) + l2 * (a - 1)^2 (shrinks the slope toward 1)."""

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        s = w[0] * z + w[1]
        q = 1.0 / (1.0 + np.exp(-s))
        nll = np.mean(np.logaddexp(0.0, s) - y * s)
        g = q - y
        grad = np.array([np.mean(g * z) + 2 * l2 * (w[0] - 1), np.mean(g)])
        return float(nll + l2 * (w[0] - 1) ** 2), grad

    res = minimize(loss, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B",
                   bounds=[(0.05, 5.0), (-15.0, 15.0)])  # fmt: skip
    return float(res.x[0]), float(res.x[1])


def fit_platt(
    y: np.ndarray, p: np.ndarray, min_positives: int = MIN_POSITIVES, l2: float = 1e-3
) -> Calibration:
    """Per-label Platt scaling on (B, L) targets and raw probabilities."""
    n = y.shape[1]
    slope, intercept = np.ones(n, np.float32), np.zeros(n, np.float32)
    z = _logit(p)
    for j in range(n):
        pos = int((y[:, j] > 0.5).sum())
        if pos >= min_positives and pos < len(y):
            slope[j], intercept[j] = _platt_one(z[:, j], (y[:, j] > 0.5).astype(float), l2)
    return Calibration(slope, intercept)


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """ECE of one label: sum over equal-width bins of |mean(p) - mean(y)| weighted by bin size."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    idx = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            total += m.sum() / len(p) * abs(p[m].mean() - y[m].mean())
    return float(total)


def f1_optimal_threshold(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """(threshold, F1) maximising F1 of ``p >= threshold`` for one label (midpoints between scores)."""
    order = np.argsort(-p)
    ys, ps = y[order] > 0.5, p[order]
    tp = np.cumsum(ys)
    k = np.arange(1, len(ps) + 1)
    f1 = 2 * tp / (k + ys.sum())
    last = np.r_[ps[1:] != ps[:-1], True]  # only cut between distinct scores
    f1 = np.where(last, f1, -1)
    i = int(np.argmax(f1))
    nxt = ps[i + 1] if i + 1 < len(ps) else 0.0
    return float((ps[i] + nxt) / 2), float(f1[i])


def prevalence_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """Threshold calling as many records as there are positives (predicted rate = prevalence)."""
    k = int((y > 0.5).sum())
    if k == 0:
        return 1.0
    return float(np.sort(p)[::-1][k - 1])


def prevalence_thresholds(
    y: np.ndarray,
    p_cal: np.ndarray,
    min_positives: int = MIN_POSITIVES,
    default: float = 0.5,
    bounds: tuple[float, float] = PREVALENCE_BOUNDS,
) -> np.ndarray:
    """The shipped rule: per label, the calibrated-probability cut that calls as many OOF records
    as there are positives (predicted rate = OOF prevalence), clipped to ``bounds``; ``default``
    for labels with fewer than ``min_positives`` positives.

    It needs no F1 trade-off (which over-calls weakly ranked labels several-fold) and it is
    invariant to the calibration map, so it transfers between networks of different strength.
    """
    out = np.full(y.shape[1], default, dtype=np.float32)
    for j in range(y.shape[1]):
        pos = int((y[:, j] > 0.5).sum())
        if min_positives <= pos < len(y):
            out[j] = float(np.clip(prevalence_threshold(y[:, j], p_cal[:, j]), *bounds))
    return out


def choose_calibrated_thresholds(
    y: np.ndarray,
    p_cal: np.ndarray,
    min_positives: int = MIN_POSITIVES,
    default: float = 0.5,
    bounds: tuple[float, float] = THRESHOLD_BOUNDS,
    prior_strength: float = 20.0,
) -> np.ndarray:
    """Thresholds on calibrated OOF probabilities: F1-optimal, shrunk toward ``default``, clipped.

    t = w * t_F1 + (1 - w) * default with w = n_pos / (n_pos + prior_strength): labels with many
    OOF positives keep their F1-optimal cut, rare ones move toward the calibrated 0.5 ("more likely
    than not"), which does not depend on the training population's F1 trade-off. Labels with fewer
    than ``min_positives`` positives get ``default``; all are clipped to ``bounds``.
    """
    out = np.full(y.shape[1], default, dtype=np.float32)
    for j in range(y.shape[1]):
        pos = int((y[:, j] > 0.5).sum())
        if pos < min_positives or pos == len(y):
            continue
        t, _ = f1_optimal_threshold(y[:, j], p_cal[:, j])
        w = pos / (pos + prior_strength)
        out[j] = float(np.clip(w * t + (1 - w) * default, *bounds))
    return out
