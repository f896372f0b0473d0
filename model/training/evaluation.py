"""Held-out evaluation of a Predictor on an SPH data set split, and its text table."""

from __future__ import annotations

import logging

import numpy as np

from model.calibration import MIN_POSITIVES
from model.training.data import SphDataset
from model.training.metrics import per_label_metrics

__all__ = ["evaluate_predictor", "predict_dataset", "format_report"]

logger = logging.getLogger(__name__)


def predict_dataset(predictor, data: SphDataset, batch_size: int = 64) -> np.ndarray:  # noqa: ANN001
    """(B, L) ``predictor.predict`` probabilities of every record of ``data`` (the serving path)."""
    probs = []
    for start in range(0, len(data.signals), batch_size):
        stop = start + batch_size
        sig = [s.astype(np.float32) for s in data.signals[start:stop]]
        pred = predictor.predict(sig, [data.fs] * len(sig), data.ages[start:stop], data.sexes[start:stop])
        probs.append(pred.probabilities)
    return np.concatenate(probs)


def evaluate_predictor(predictor, data: SphDataset, batch_size: int = 64) -> dict:  # noqa: ANN001
    """Per-label AUROC/AP/F1 and macro AUROC (labels with >= MIN_POSITIVES positives) on ``data``."""
    p = predict_dataset(predictor, data, batch_size)
    y = data.targets()
    rows = per_label_metrics(y, p, predictor.thresholds)
    labels: list[dict] = []
    for label, row in zip(predictor.labels, rows, strict=True):
        threshold = float(predictor.thresholds[len(labels)])
        row.update(code=label.code, description=label.description, threshold=threshold)
        row["included_in_macro"] = row["positives"] >= MIN_POSITIVES and row["auroc"] is not None
        labels.append(row)
    included = [r for r in labels if r["included_in_macro"]]
    few = [r for r in labels if 0 < r["positives"] < MIN_POSITIVES]

    def mean(key: str, rs: list[dict]) -> float | None:
        vals = [r[key] for r in rs if r[key] is not None]
        return float(np.mean(vals)) if vals else None

    report = {
        "records": len(y),
        "model_version": predictor.version,
        "min_positives": MIN_POSITIVES,
        "macro_auroc": mean("auroc", included),
        "macro_ap": mean("ap", included),
        "macro_f1": mean("f1", included),
        "n_labels_in_macro": len(included),
        "macro_auroc_all_with_positives": mean("auroc", [r for r in labels if r["auroc"] is not None]),
        "labels_with_few_positives": [r["code"] for r in few],
        "labels_without_positives": [r["code"] for r in labels if r["positives"] == 0],
        "per_label": labels,
    }
    logger.info("evaluated", extra={"records": len(y), "macro_auroc": report["macro_auroc"]})
    return report


def format_report(report: dict) -> str:
    """A plain-text table of a report from ``evaluate_predictor``."""
    lines = [
        f"model {report['model_version']}  records {report['records']}",
        f"{'code':>5}  {'description':<42} {'pos':>4} {'AUROC':>6} {'AP':>6} {'F1':>6} {'thr':>5}",
    ]

    def f(v: float | None) -> str:
        return f"{v:6.3f}" if v is not None else "     -"

    for r in sorted(report["per_label"], key=lambda r: -r["positives"]):
        if r["positives"] == 0:
            continue
        mark = "" if r["included_in_macro"] else f"  (< {report['min_positives']} positives: not in macro)"
        lines.append(
            f"{r['code']:>5}  {r['description'][:42]:<42} {r['positives']:>4} {f(r['auroc'])} {f(r['ap'])} "
            f"{f(r['f1'])} {r['threshold']:5.2f}{mark}"
        )
    lines.append(
        f"macro over {report['n_labels_in_macro']} labels with >= {report['min_positives']} positives: "
        f"AUROC {f(report['macro_auroc'])}  AP {f(report['macro_ap'])}  F1 {f(report['macro_f1'])}"
    )
    lines.append(f"labels with no held-out positives (not scored): {len(report['labels_without_positives'])}")
    return "\n".join(lines)
