"""Which members to ship: pooled OOF scores of every member mix of two or more recipes' OOF files.

    .venv/bin/python benchmarks/ensemble_choice.py OOF_A.npz OOF_B.npz [...]

Each file holds one recipe's cross-validated members (``ecgstream crossval --oof``; same records
and folds). For every combination of the first k_A members of A, k_B of B, ... (at least one member
in all) it prints the pooled OOF macro AUROC and AP over the labels with >= 10 positives and the
fold SE, the same protocol as the CV table, so a mix can be chosen against the inference budget.
``--paired`` also prints each recipe's single member per fold (its first member) and every pair's
per-fold difference (mean +/- SE over the folds): a paired comparison on the same records.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model.training.crossval import fold_scores, load_oof, pooled_scores  # noqa: E402


def aligned_members(paths: list[Path]) -> tuple[list[str], list[np.ndarray], np.ndarray, np.ndarray]:
    """Recipe names, each file's (M, B, L) member probabilities in one record order, y and folds."""
    parts = [load_oof(p) for p in paths]
    ids = np.sort(parts[0]["ECG_ID"])
    members, names = [], []
    for part, path in zip(parts, paths, strict=True):
        order = np.argsort(part["ECG_ID"])
        if not np.array_equal(part["ECG_ID"][order], ids):
            raise SystemExit(f"{path}: other records than {paths[0]}")
        members.append(part["member_probabilities"][:, order])
        names.append(str(part["recipe"]))
    first = np.argsort(parts[0]["ECG_ID"])
    return names, members, parts[0]["y"][first].astype(float), parts[0]["fold"][first]


def paired_single_members(
    names: list[str], members: list[np.ndarray], y: np.ndarray, fold: np.ndarray
) -> tuple[dict[str, list[float]], dict[tuple[str, str], tuple[float, float]]]:
    """Per-fold macro AUROC of each recipe's first member, and (mean, SE) of A - B over folds per pair."""
    per_fold = {
        n: fold_scores(y, m[0], fold)["fold_macro_auroc"] for n, m in zip(names, members, strict=True)
    }
    diffs = {}
    for a, b in itertools.combinations(names, 2):
        d = np.subtract(per_fold[a], per_fold[b])
        diffs[(a, b)] = (
            float(d.mean()),
            float(d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else float("nan"),
        )
    return per_fold, diffs


def _print_paired(names: list[str], members: list[np.ndarray], y: np.ndarray, fold: np.ndarray) -> None:
    per_fold, diffs = paired_single_members(names, members, y, fold)
    print("single member per fold (first member of each file)")
    for name, scores in per_fold.items():
        print(f"  {name:<38} " + " ".join(f"{s:.3f}" for s in scores))
    for (a, b), (mean, se) in diffs.items():
        print(f"  {a} - {b}: {mean:+.4f} +/- {se:.4f}")
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("oof", type=Path, nargs="+")
    parser.add_argument(
        "--paired", action="store_true", help="also print per-fold paired single-member differences"
    )
    args = parser.parse_args(argv)
    names, members, y, fold = aligned_members(args.oof)
    if args.paired:
        _print_paired(names, members, y, fold)
    print(f"{'members':<40} {'AUROC':>7} {'AP':>7} {'fold AUROC +/- SE':>20}")
    rows = []
    for counts in itertools.product(*[range(len(m) + 1) for m in members]):
        if sum(counts) == 0:
            continue
        p = np.concatenate([m[:k] for m, k in zip(members, counts, strict=True)]).mean(axis=0)
        pooled, folds = pooled_scores(y, p), fold_scores(y, p, fold)
        label = " + ".join(f"{n} x{k}" for n, k in zip(names, counts, strict=True) if k)
        rows.append(
            (
                pooled["macro_auroc"],
                label,
                pooled["macro_ap"],
                folds["fold_mean_auroc"],
                folds["fold_se_auroc"],
            )
        )
    for auroc, label, ap, fold_mean, fold_se in sorted(rows, reverse=True):
        print(f"{label:<40} {auroc:7.4f} {ap:7.4f} {fold_mean:12.4f} +/- {fold_se:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
