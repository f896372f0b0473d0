"""``ecgstream train``: train the CAE + multi-label classifier on an SPH-layout folder.

The defaults are the shipped model's recipe (100 Hz, 10 autoencoder epochs, up to 60 fine-tuning
epochs with patience 15 and encoder LR x0.5, an ensemble of 3 seeds, patient split seed 0).
``--device auto|cpu|cuda`` picks the training device (mixed precision on CUDA, ``model.training.device``);
``--oof OOF.npz`` (from ``ecgstream crossval``) fits the calibration and thresholds stored in the
checkpoint on out-of-fold predictions instead of the validation split. ``--recipe NAME[:MEMBERS]``
(repeatable, e.g. ``--recipe cae:3 --recipe resnet-1m:1``) trains cross-validation recipes
(``model.training.recipes``) with the configs their CV rows used, a mixed ensemble when several are given;
the CAE options above then do not apply.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import platform
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch

from core.config import DEFAULT_MODEL_PATH

logger = logging.getLogger(__name__)


DEVICE_CHOICES = ("auto", "cpu", "cuda")  # model.training.device.DEVICE_CHOICES (not imported: keeps --help fast)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data", required=True, type=Path, help="SPH-layout folder (metadata.csv, code.csv, records/)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL_PATH, help="checkpoint to write")
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="stage-2 (classifier) epochs, early stopped (default 60; with --recipe: the recipe's)",
    )
    parser.add_argument("--ae-epochs", type=int, default=None,
                        help="stage-1 (autoencoder) epochs (default 15; with --recipe: the recipe's)")  # fmt: skip
    parser.add_argument("--rate", type=float, default=100.0, help="model input rate in Hz")
    parser.add_argument("--members", type=int, default=3, help="ensemble size (seeds seed..seed+members-1)")
    parser.add_argument(
        "--frozen", action="store_true", help="freeze the encoder in stage 2 (default: fine-tune)"
    )
    parser.add_argument("--seed", type=int, default=0, help="split and training seed")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--encoder-lr-factor", type=float, default=0.5, help="stage-2 encoder LR / head LR")
    parser.add_argument("--patience", type=int, default=15, help="early-stopping patience (epochs)")
    parser.add_argument("--label-smoothing", type=float, default=0.0)
    parser.add_argument(
        "--recon-weight", type=float, default=0.0, help="stage-2 auxiliary reconstruction loss"
    )
    parser.add_argument("--channels", type=str, default="16,32,64,64,64", help="encoder channels per stage")
    parser.add_argument("--latent-channels", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto",
                        help="auto: CUDA when available (mixed precision), else CPU")  # fmt: skip
    parser.add_argument("--encoder", choices=("conv", "resnet"), default="conv", help="CAE encoder type")
    parser.add_argument(
        "--oof", type=Path, default=None,
        help="OOF predictions (.npz from `ecgstream crossval`) of this recipe: calibration + thresholds "
        "are fitted on them instead of on the validation split",
    )  # fmt: skip
    parser.add_argument("--recipe", action="append", default=None, metavar="NAME[:MEMBERS]",
                        help="train these cross-validation recipes instead (repeatable: a mixed ensemble)")  # fmt: skip
    parser.add_argument("--no-augment", action="store_true")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--limit", type=int, default=None, help="read only the first N records")
    parser.add_argument("--data-name", type=str, default=None, help="short data set name in the version")
    parser.add_argument("--report", type=Path, default=None, help="also write the held-out report as JSON")


def _version(models: list, data_name: str, name: str = "cae") -> str:
    digest = hashlib.sha256()
    for m in models:
        for v in m.state_dict().values():
            digest.update(v.detach().cpu().numpy().tobytes())
    return f"{name}-{data_name}-{datetime.now(UTC):%Y%m%d}-{digest.hexdigest()[:7]}"


def run(args: argparse.Namespace) -> int:
    from model.checkpoint import save_checkpoint
    from model.predictor import Predictor
    from model.training.data import SPLIT_FRACTIONS, read_sph_dataset
    from model.training.evaluation import evaluate_predictor, format_report
    from model.training.fit import TrainConfig, config_dict, train

    cfg = TrainConfig(
        rate=args.rate, ae_epochs=15 if args.ae_epochs is None else args.ae_epochs,
        epochs=60 if args.epochs is None else args.epochs, batch_size=args.batch_size, lr=args.lr,
        finetune=not args.frozen, members=args.members, seed=args.seed, augment=not args.no_augment,
        threads=args.threads, channels=[int(c) for c in args.channels.split(",")],
        latent_channels=args.latent_channels, progress=not args.no_progress,
        encoder_lr_factor=args.encoder_lr_factor, patience=args.patience, label_smoothing=args.label_smoothing,
        recon_weight=args.recon_weight, device=args.device, encoder=args.encoder,
    )  # fmt: skip
    torch.set_num_threads(args.threads)
    data = read_sph_dataset(args.data, limit=args.limit)
    name = "cae"
    if args.recipe:
        from model.training.recipes import parse_ensemble, train_recipes

        parts = parse_ensemble(args.recipe)
        name = "+".join(f"{recipe.name}x{members}" for recipe, members in parts)
        overrides = {
            k: v for k, v in (("epochs", args.epochs), ("ae_epochs", args.ae_epochs)) if v is not None
        }
        result = train_recipes(
            data, parts, seed=args.seed, threads=args.threads, device=args.device, overrides=overrides
        )
        cfg = result.config
    else:
        result = train(data, cfg)
    decisions: dict[str, object] = {"rule": "validation F1-optimal (raw)"}
    calibration, thresholds = None, result.thresholds
    if args.oof is not None:
        from model.training.crossval import load_oof
        from model.training.oof_rules import fit_oof_decisions

        oof = load_oof(args.oof)
        if [int(c) for c in oof["labels"]] != [lb.code for lb in data.labels]:
            raise SystemExit(f"{args.oof}: label order differs from the data set's code table")
        calibration, thresholds = fit_oof_decisions(
            oof["y"].astype(float), oof["probabilities"].astype(float)
        )
        decisions = {"rule": "platt + calibrated prevalence match", "source": args.oof.name,
                     "records": len(oof["y"])}  # fmt: skip
    data_name = args.data_name or args.data.resolve().name.replace("_", "-")
    version = _version(result.models, data_name, name)
    from model.preprocessing import PreprocessConfig

    pre = PreprocessConfig(fs=cfg.rate, window_s=cfg.window_s)
    predictor = Predictor(result.models, data.labels, thresholds, pre, version, args.threads,
                          calibration=calibration)  # fmt: skip
    test = evaluate_predictor(predictor, data.subset(result.split[2]))
    val = evaluate_predictor(predictor, data.subset(result.split[1]))
    counts = {str(lb.code): int(c) for lb, c in zip(data.labels, data.targets().sum(0), strict=True) if c}
    training = {
        "data": {
            "name": data_name,
            "records": len(data.signals),
            "description": f"SPH-layout folder '{data_name}' ({len(data.signals)} records)",
            "label_counts": counts,
        },
        "split": {
            "by": "Patient_ID",
            "seed": args.seed,
            "fractions": list(SPLIT_FRACTIONS),
            "sizes": [len(s) for s in result.split],
        },
        "config": config_dict(cfg),
        "recipes": list(args.recipe or []),
        "seconds": round(result.seconds, 1),
        "decisions": decisions,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "torch": str(torch.__version__),
        "machine": platform.machine(),
        "metrics": {
            "test": {
                k: test[k] for k in ("macro_auroc", "macro_ap", "macro_f1", "n_labels_in_macro", "records")
            },
            "val": {
                k: val[k] for k in ("macro_auroc", "macro_ap", "macro_f1", "n_labels_in_macro", "records")
            },
            "test_per_label_auroc": {
                str(r["code"]): r["auroc"] for r in test["per_label"] if r["auroc"] is not None
            },
            "test_positives": {str(r["code"]): r["positives"] for r in test["per_label"] if r["positives"]},
        },
        "history": [
            {k: (float(v) if isinstance(v, np.floating) else v) for k, v in h.items()} for h in result.history
        ],
    }
    save_checkpoint(args.out, result.models, pre, data.labels, list(thresholds), version, training,
                    calibration=calibration)  # fmt: skip
    print(format_report(test))
    print(f"training wall time {result.seconds:.0f} s; checkpoint {args.out} ({version})")
    if args.report:
        args.report.write_text(json.dumps({"test": test, "val": val, "seconds": result.seconds}, indent=2))
    return 0
