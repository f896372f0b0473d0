"""Compare calibration and threshold rules on OOF predictions by cross-fitting over the CV folds.

Each rule is fitted on the OOF predictions of k-1 folds and scored on the remaining fold (then
pooled), so the figures say how a rule transfers to records it was not chosen on, not how well it
fits. Pure numpy; used by ``benchmarks/crossval.py`` and the tests.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from model.calibration import (
    MIN_POSITIVES,
    Calibration,
    choose_calibrated_thresholds,
    expected_calibration_error,
    f1_optimal_threshold,
    fit_platt,
    prevalence_threshold,
    prevalence_thresholds,
)

__all__ = [
    "THRESHOLD_RULES",
    "scored_labels",
    "crossfit_calibration",
    "macro_ece",
    "compare_threshold_rules",
    "fit_oof_decisions",
]


def scored_labels(y: np.ndarray, min_positives: int = MIN_POSITIVES) -> np.ndarray:
    pos = (y > 0.5).sum(0)
    return np.flatnonzero((pos >= min_positives) & (pos < len(y)))


def macro_ece(y: np.ndarray, p: np.ndarray, cols: np.ndarray) -> float:
    return float(np.mean([expected_calibration_error(y[:, j], p[:, j]) for j in cols]))


def crossfit_calibration(y: np.ndarray, p: np.ndarray, fold: np.ndarray) -> np.ndarray:
    """(B, L) calibrated probabilities, each fold's calibrated by a Platt fit on the other folds."""
    out = np.empty_like(p, dtype=np.float32)
    for f in np.unique(fold):
        m = fold == f
        out[m] = fit_platt(y[~m], p[~m]).apply(p[m])
    return out


def _per_label(
    rule: Callable[[np.ndarray, np.ndarray], float],
) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    def choose(y: np.ndarray, p: np.ndarray) -> np.ndarray:
        out = np.full(y.shape[1], 0.5, np.float32)
        for j in scored_labels(y):
            out[j] = rule(y[:, j], p[:, j])
        return out

    return choose


# name -> (uses calibrated probabilities, chooser(y, p) -> (L,) thresholds)
THRESHOLD_RULES: dict[str, tuple[bool, Callable[[np.ndarray, np.ndarray], np.ndarray]]] = {
    "raw F1-optimal (old rule, on OOF)": (False, _per_label(lambda y, p: f1_optimal_threshold(y, p)[0])),
    "raw F1-optimal clipped 0.05-0.95 (previous rule)": (
        False, _per_label(lambda y, p: float(np.clip(f1_optimal_threshold(y, p)[0], 0.05, 0.95)))),
    "calibrated 0.5": (True, lambda y, p: np.full(y.shape[1], 0.5, np.float32)),
    "calibrated prevalence match": (True, _per_label(prevalence_threshold)),
    "calibrated prevalence match, clipped 0.05-0.95 (shipped)": (True, prevalence_thresholds),
    "calibrated F1-optimal": (True, _per_label(lambda y, p: f1_optimal_threshold(y, p)[0])),
    "calibrated F1-optimal, shrunk to 0.5, clipped 0.1-0.9": (True, choose_calibrated_thresholds),
}  # fmt: skip


def compare_threshold_rules(y: np.ndarray, p: np.ndarray, fold: np.ndarray) -> list[dict]:
    """Per rule: cross-fitted macro F1, call-rate ratio (called / true) and fold spread of thresholds."""
    cols = scored_labels(y)
    p_cal = crossfit_calibration(y, p, fold)
    rows = []
    for name, (calibrated, choose) in THRESHOLD_RULES.items():
        q = p_cal if calibrated else p
        called = np.zeros_like(y, dtype=bool)
        chosen = []
        for f in np.unique(fold):
            m = fold == f
            t = choose(y[~m], q[~m])
            chosen.append(t)
            called[m] = q[m] >= t
        truth = y > 0.5
        f1 = [2 * np.sum(called[:, j] & truth[:, j]) / (called[:, j].sum() + truth[:, j].sum()) for j in cols]
        ratio = [called[:, j].sum() / truth[:, j].sum() for j in cols]
        spread = np.std(np.stack(chosen)[:, cols], axis=0)
        rows.append({
            "rule": name, "macro_f1": float(np.mean(f1)), "median_call_ratio": float(np.median(ratio)),
            "worst_call_ratio": float(max(ratio, key=lambda r: abs(np.log(max(r, 1e-3))))),
            "threshold_fold_sd": float(np.mean(spread)),
        })  # fmt: skip
    return rows


def fit_oof_decisions(y: np.ndarray, p: np.ndarray) -> tuple[Calibration, np.ndarray]:
    """The shipped rule on all OOF records: Platt calibration + prevalence-matched calibrated thresholds."""
    cal = fit_platt(y, p)
    thresholds = prevalence_thresholds(y, cal.apply(p))
    return cal, thresholds
