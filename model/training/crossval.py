"""Patient-grouped k-fold cross-validation of a recipe: pooled out-of-fold (OOF) predictions.

For each fold f: the other folds are split by patient into fit (90 %) and early-stopping (10 %)
records; ``members`` seeds of the recipe are trained on them and their mean probability on fold f
is its OOF prediction. Every record is predicted once, by models that never saw its patient.
Scores: pooled OOF macro AUROC / AP over labels with >= ``MIN_POSITIVES`` positives, and the
fold-to-fold mean and standard error of the per-fold macro AUROC.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import average_precision_score, roc_auc_score

from model.calibration import MIN_POSITIVES
from model.preprocessing import PreprocessConfig
from model.training.data import SphDataset
from model.training.device import resolve_device
from model.training.fit import Arrays, TrainConfig, predict_arrays, prepare_arrays
from model.training.folds import inner_split, patient_kfold
from model.training.recipes import Recipe, fit_member, parameter_count

__all__ = ["CVResult", "cross_validate", "pooled_scores", "fold_scores", "save_oof", "load_oof"]

logger = logging.getLogger(__name__)


@dataclass
class CVResult:
    recipe: str
    ecg_ids: list[str]
    y: np.ndarray  # (B, L) targets
    probabilities: np.ndarray  # (B, L) OOF member-mean probabilities
    member_probabilities: np.ndarray  # (M, B, L) OOF probabilities of each member
    fold: np.ndarray  # (B,) fold of each record
    label_codes: list[int]
    seconds: float
    parameters: int  # per member, used at inference
    config: dict

    def scores(self) -> dict:
        pooled = pooled_scores(self.y, self.probabilities)
        folds = fold_scores(self.y, self.probabilities, self.fold)
        single = [pooled_scores(self.y, p)["macro_auroc"] for p in self.member_probabilities]
        return {
            "recipe": self.recipe,
            **pooled,
            **folds,
            "members": len(self.member_probabilities),
            "single_member_macro_auroc": single,
            "seconds": round(self.seconds, 1),
            "parameters": self.parameters,
        }


def _labels_scored(y: np.ndarray, min_positives: int) -> np.ndarray:
    pos = (y > 0.5).sum(0)
    return np.flatnonzero((pos >= min_positives) & (pos < len(y)))


def pooled_scores(y: np.ndarray, p: np.ndarray, min_positives: int = MIN_POSITIVES) -> dict:
    """Macro AUROC / AP over labels with >= ``min_positives`` positives, plus per-label values."""
    cols = _labels_scored(y, min_positives)
    auroc = {int(j): float(roc_auc_score(y[:, j], p[:, j])) for j in cols}
    ap = {int(j): float(average_precision_score(y[:, j], p[:, j])) for j in cols}
    return {
        "macro_auroc": float(np.mean(list(auroc.values()))) if auroc else float("nan"),
        "macro_ap": float(np.mean(list(ap.values()))) if ap else float("nan"),
        "n_labels": len(cols),
        "per_label_auroc": auroc,
        "per_label_ap": ap,
    }


def fold_scores(y: np.ndarray, p: np.ndarray, fold: np.ndarray, min_positives: int = MIN_POSITIVES) -> dict:
    """Per-fold macro AUROC/AP over the pooled label set (labels without a positive in a fold skipped)."""
    cols = _labels_scored(y, min_positives)
    aurocs, aps = [], []
    for f in np.unique(fold):
        m = fold == f
        ok = [j for j in cols if 0 < y[m, j].sum() < m.sum()]
        aurocs.append(float(np.mean([roc_auc_score(y[m, j], p[m, j]) for j in ok])))
        aps.append(float(np.mean([average_precision_score(y[m, j], p[m, j]) for j in ok])))
    k = len(aurocs)
    return {
        "fold_macro_auroc": aurocs,
        "fold_macro_ap": aps,
        "fold_mean_auroc": float(np.mean(aurocs)),
        "fold_se_auroc": float(np.std(aurocs, ddof=1) / np.sqrt(k)) if k > 1 else float("nan"),
        "fold_mean_ap": float(np.mean(aps)),
        "fold_se_ap": float(np.std(aps, ddof=1) / np.sqrt(k)) if k > 1 else float("nan"),
    }


def _subset_arrays(arrays: Arrays, records: np.ndarray) -> Arrays:
    """Arrays of the given record indices (windows follow their records; owners renumbered)."""
    keep = np.isin(arrays.owner, records)
    remap = np.full(len(arrays.y), -1)
    remap[records] = np.arange(len(records))
    return Arrays(arrays.x[keep], remap[arrays.owner[keep]], arrays.demo[records], arrays.y[records])


def cross_validate(
    data: SphDataset,
    recipe: Recipe,
    cfg: TrainConfig,
    folds: int = 5,
    seed: int = 0,
    only_folds: list[int] | None = None,
    unlabeled: np.ndarray | None = None,
) -> CVResult:
    """Train ``cfg.members`` members of ``recipe`` per fold; pool their OOF probabilities."""
    torch.set_num_threads(cfg.threads)
    device = resolve_device(cfg.device)
    started = time.perf_counter()
    pre = PreprocessConfig(fs=cfg.rate, window_s=cfg.window_s)
    arrays = prepare_arrays(data, pre)
    y = arrays.y
    fold = patient_kfold(data.patient_ids, y, k=folds, seed=seed)
    member_probs = np.full((cfg.members, *y.shape), np.nan, dtype=np.float32)
    params = 0
    for f in range(folds) if only_folds is None else only_folds:
        fold_started = time.perf_counter()
        test_idx = np.flatnonzero(fold == f)
        rest = np.flatnonzero(fold != f)
        fit_pos, stop_pos = inner_split([data.patient_ids[i] for i in rest], seed=seed + f)
        fit_arr, stop_arr = _subset_arrays(arrays, rest[fit_pos]), _subset_arrays(arrays, rest[stop_pos])
        test_arr = _subset_arrays(arrays, test_idx)
        for m in range(cfg.members):
            model = fit_member(recipe, cfg, fit_arr, stop_arr, seed + 100 * f + m, device, unlabeled)
            params = parameter_count(model)
            member_probs[m, test_idx] = predict_arrays(model, test_arr)
        score = pooled_scores(y[test_idx], member_probs[:, test_idx].mean(0))["macro_auroc"]
        logger.info(
            "fold done",
            extra={"recipe": recipe.name, "fold": f, "records": len(test_idx), "macro_auroc": round(score, 4),
                   "seconds": round(time.perf_counter() - fold_started, 1)},
        )  # fmt: skip
    done = ~np.isnan(member_probs[0, :, 0])
    return CVResult(
        recipe=recipe.name,
        ecg_ids=[e for e, d in zip(data.ecg_ids, done, strict=True) if d],
        y=y[done],
        probabilities=member_probs[:, done].mean(0),
        member_probabilities=member_probs[:, done],
        fold=fold[done],
        label_codes=[lb.code for lb in data.labels],
        seconds=time.perf_counter() - started,
        parameters=params,
        config={**asdict(cfg), "folds": folds, "fold_seed": seed},
    )


def save_oof(path: str | Path, result: CVResult) -> Path:
    """OOF predictions as .npz: ECG_ID, labels (codes), y, probabilities, member_probabilities, fold."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path, ECG_ID=np.asarray(result.ecg_ids), labels=np.asarray(result.label_codes), y=result.y,
        probabilities=result.probabilities, member_probabilities=result.member_probabilities,
        fold=result.fold, recipe=np.asarray(result.recipe),
    )  # fmt: skip
    logger.info("oof saved", extra={"path": str(path), "records": len(result.ecg_ids)})
    return path


def load_oof(path: str | Path) -> dict[str, np.ndarray]:
    with np.load(Path(path), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}
