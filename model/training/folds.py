"""Patient-grouped, label-stratified k-fold assignment (pure numpy, deterministic for a seed).

Every record of a patient lands in the same fold. Patients are placed greedily, rarest labels
first (iterative stratification, Sechidis et al. 2011, applied to patient groups): each patient goes
to the fold that most lacks its rarest label, ties broken by the fold with the fewest records.
"""

from __future__ import annotations

import numpy as np

__all__ = ["patient_kfold", "inner_split"]


def patient_kfold(patient_ids: list[str], y: np.ndarray, k: int = 5, seed: int = 0) -> np.ndarray:
    """(B,) fold index in 0..k-1 per record; patients never straddle folds, labels spread evenly."""
    if k < 2:
        raise ValueError("k must be >= 2")
    patients = sorted(set(patient_ids))
    if len(patients) < k:
        raise ValueError(f"{len(patients)} patients cannot fill {k} folds")
    index = {p: i for i, p in enumerate(patients)}
    owner = np.asarray([index[p] for p in patient_ids])
    counts = np.zeros((len(patients), y.shape[1]))
    np.add.at(counts, owner, (y > 0.5).astype(float))
    sizes = np.bincount(owner, minlength=len(patients)).astype(float)
    totals = counts.sum(0)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(patients))
    # rarest label a patient carries (patients without labels last); stable sort keeps the shuffle
    rarity = np.where(counts[order] > 0, totals[None, :], np.inf).min(axis=1)
    order = order[np.argsort(rarity, kind="stable")]
    fold_labels = np.zeros((k, y.shape[1]))
    fold_sizes = np.zeros(k)
    target = totals / k
    assigned = np.empty(len(patients), dtype=int)
    for p in order:
        labels = np.flatnonzero(counts[p])
        if len(labels):
            rare = labels[np.argmin(totals[labels])]
            need = target[rare] - fold_labels[:, rare]
        else:
            need = np.zeros(k)
        # most-needed fold for the rarest label, then the smallest fold, then a random tie-break
        key = np.lexsort((rng.random(k), fold_sizes, -need))
        f = int(key[0])
        assigned[p] = f
        fold_labels[f] += counts[p]
        fold_sizes[f] += sizes[p]
    return assigned[owner]


def inner_split(
    patient_ids: list[str], fraction: float = 0.1, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(fit, early-stopping) record indices: a random ``fraction`` of the patients is held out."""
    patients = sorted(set(patient_ids))
    order = np.random.default_rng(seed).permutation(len(patients))
    held = {patients[i] for i in order[: max(1, int(round(fraction * len(patients))))]}
    mask = np.asarray([p in held for p in patient_ids])
    return np.flatnonzero(~mask), np.flatnonzero(mask)
