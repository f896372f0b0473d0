"""Multi-label metrics: per-label AUROC, average precision, F1 at thresholds; threshold choice."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from model.calibration import MIN_POSITIVES

__all__ = ["choose_thresholds", "per_label_metrics", "macro_auroc"]


def choose_thresholds(
    y: np.ndarray,
    p: np.ndarray,
    default: float = 0.5,
    min_positives: int = 3,
    bounds: tuple[float, float] = (0.05, 0.95),
) -> np.ndarray:
    """(L,) thresholds maximising F1 per label on (B, L) targets ``y`` and probabilities ``p``.

    Labels with fewer than ``min_positives`` positives keep ``default``; chosen thresholds are
    clipped to ``bounds`` so one or two validation records cannot set an extreme threshold.
    """
    out = np.full(y.shape[1], default, dtype=np.float32)
    for j in range(y.shape[1]):
        pos = y[:, j] > 0.5
        if pos.sum() < min_positives:
            continue
        candidates = np.unique(p[:, j])
        best, best_t = -1.0, default
        for t in candidates:
            pred = p[:, j] >= t
            tp = float(np.sum(pred & pos))
            f1 = 2 * tp / (pred.sum() + pos.sum())
            if f1 > best:
                best, best_t = f1, float(t)
        out[j] = float(np.clip(best_t, *bounds))
    return out


def per_label_metrics(y: np.ndarray, p: np.ndarray, thresholds: np.ndarray) -> list[dict]:
    """One dict per label: positives, auroc, ap, f1 (None when undefined)."""
    rows = []
    for j in range(y.shape[1]):
        pos = int((y[:, j] > 0.5).sum())
        row: dict = {"positives": pos, "auroc": None, "ap": None, "f1": None}
        if 0 < pos < len(y):
            row["auroc"] = float(roc_auc_score(y[:, j], p[:, j]))
            row["ap"] = float(average_precision_score(y[:, j], p[:, j]))
        if pos > 0:
            pred = p[:, j] >= thresholds[j]
            tp = float(np.sum(pred & (y[:, j] > 0.5)))
            row["f1"] = float(2 * tp / (pred.sum() + pos))
        rows.append(row)
    return rows


def macro_auroc(y: np.ndarray, p: np.ndarray, min_positives: int = MIN_POSITIVES) -> float:
    """Mean AUROC over labels with at least ``min_positives`` positives (and one negative)."""
    values = []
    for j in range(y.shape[1]):
        pos = int((y[:, j] > 0.5).sum())
        if pos >= min_positives and pos < len(y):
            values.append(roc_auc_score(y[:, j], p[:, j]))
    return float(np.mean(values)) if values else float("nan")
