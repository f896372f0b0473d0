"""``ecgstream crossval``: patient-grouped k-fold CV of a named recipe; pooled OOF scores + OOF .npz.

    ecgstream crossval --data ../shared/data/ptbxl-sph --recipe cae --members 1 \
        --oof ../artifacts/oof_cae.npz --json ../artifacts/cv_cae.json

Recipes: see ``model.training.recipes.RECIPES``. ``--epochs``/``--ae-epochs`` shrink a recipe's budget
(same flags for every recipe, so comparisons stay fair).
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from model.training.device import DEVICE_CHOICES

    parser.add_argument("--data", required=True, type=Path, help="SPH-layout folder")
    parser.add_argument("--recipe", default="cae", help="recipe name (model.training.recipes.RECIPES)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--only-folds", type=str, default=None, help="comma-separated folds to run")
    parser.add_argument("--seed", type=int, default=0, help="fold assignment and training seed")
    parser.add_argument("--members", type=int, default=1, help="ensemble members per fold")
    parser.add_argument("--epochs", type=int, default=None, help="override classifier epochs")
    parser.add_argument("--ae-epochs", type=int, default=None, help="override autoencoder epochs")
    parser.add_argument("--patience", type=int, default=None, help="override early-stopping patience")
    parser.add_argument("--rate", type=float, default=None, help="override input rate (Hz)")
    parser.add_argument("--label-smoothing", type=float, default=None)
    parser.add_argument("--unlabeled", type=Path, nargs="*", default=[],
                        help="WFDB folders (e.g. ludb, cinc2021) added to the autoencoder stage")  # fmt: skip
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="cpu")
    parser.add_argument("--limit", type=int, default=None, help="read only the first N records")
    parser.add_argument("--oof", type=Path, default=None, help="write OOF predictions (.npz) here")
    parser.add_argument("--json", type=Path, default=None, help="write the scores (JSON) here")
    parser.add_argument("--no-progress", action="store_true")


def _unlabeled_windows(folders: list[Path], rate: float) -> object:
    """Preprocessed windows of every WFDB record in ``folders`` (labels unused)."""
    import numpy as np

    from ingest import read_recording
    from model.preprocessing import PreprocessConfig, preprocess_batch

    pre = PreprocessConfig(fs=rate)
    chunks = []
    for folder in folders:
        recs = [read_recording(h) for h in sorted(folder.glob("*.hea"))]
        if recs:
            x, _ = preprocess_batch([r.signal for r in recs], [r.fs for r in recs], pre)
            chunks.append(x)
        logger.info("unlabeled records", extra={"folder": folder.name, "records": len(recs)})
    return np.concatenate(chunks) if chunks else None


def run(args: argparse.Namespace) -> int:
    from model.training.crossval import cross_validate, save_oof
    from model.training.data import read_sph_dataset
    from model.training.recipes import get_recipe

    recipe = get_recipe(args.recipe)
    overrides = {
        k: v
        for k, v in {"epochs": args.epochs, "ae_epochs": args.ae_epochs, "patience": args.patience,
                     "rate": args.rate, "label_smoothing": args.label_smoothing}.items()
        if v is not None
    }  # fmt: skip
    cfg = recipe.config(members=args.members, threads=args.threads, device=args.device,
                        progress=not args.no_progress, **overrides)  # fmt: skip
    data = read_sph_dataset(args.data, limit=args.limit)
    unlabeled = _unlabeled_windows(args.unlabeled, cfg.rate) if args.unlabeled else None
    only = [int(f) for f in args.only_folds.split(",")] if args.only_folds else None
    result = cross_validate(data, recipe, cfg, folds=args.folds, seed=args.seed, only_folds=only,
                            unlabeled=unlabeled)  # type: ignore[arg-type]  # fmt: skip
    scores = result.scores()
    scores["config"] = result.config
    scores["unlabeled_folders"] = [str(p) for p in args.unlabeled]
    print(
        f"recipe {recipe.name} ({result.parameters:,} params/member, {args.members} member(s)/fold, "
        f"{args.folds} folds): pooled OOF macro AUROC {scores['macro_auroc']:.4f} AP {scores['macro_ap']:.4f} "
        f"over {scores['n_labels']} labels; fold AUROC {scores['fold_mean_auroc']:.4f} "
        f"+/- {scores['fold_se_auroc']:.4f} (SE); wall {result.seconds:.0f} s"
    )
    if args.oof:
        save_oof(args.oof, result)
        print(f"OOF predictions written to {args.oof}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(scores, indent=2, default=float))
    return 0
