"""Baseline: a plain supervised 1-D ResNet on the same split, preprocessing, loss and budget.

    .venv/bin/python benchmarks/compare_baseline.py --data ../shared/data/ptbxl-sph \
        [--model model/weights/ecgstream-cae.pt] [--members 1] [--json OUT]

The ResNet (no autoencoder, no pre-training) is trained with ``model.training.fit.fit_classifier``
(same weighted BCE, augmentation, cosine LR, early stopping on validation macro AUROC) for
ae_epochs + epochs of the checkpoint's training config (the CAE's whole epoch budget), at the
checkpoint's input rate, on the checkpoint's patient split; thresholds are chosen on validation.
Both models are scored on the held-out split through ``Predictor.predict``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.config import DEFAULT_MODEL_PATH  # noqa: E402
from model.checkpoint import load_checkpoint  # noqa: E402
from model.predictor import Predictor  # noqa: E402
from model.resnet import ResNet1d, ResNetConfig  # noqa: E402
from model.training.data import patient_split, read_sph_dataset  # noqa: E402
from model.training.evaluation import evaluate_predictor, format_report  # noqa: E402
from model.training.fit import TrainConfig, fit_classifier, predict_arrays, prepare_arrays  # noqa: E402
from model.training.metrics import choose_thresholds  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_PATH, help="CAE checkpoint to compare")
    parser.add_argument("--members", type=int, default=None, help="ResNet seeds (default: as the checkpoint)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--channels", type=str, default="32,64,96,128", help="ResNet stage widths")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    ckpt = load_checkpoint(args.model)
    cfg = TrainConfig(**ckpt.training["config"])
    cfg = replace(cfg, epochs=cfg.ae_epochs + cfg.epochs, threads=args.threads)
    members = args.members or cfg.members
    data = read_sph_dataset(args.data)
    train_idx, val_idx, test_idx = patient_split(data.patient_ids, seed=cfg.seed)
    pre = ckpt.preprocess
    train_arr, val_arr = (
        prepare_arrays(data.subset(train_idx), pre),
        prepare_arrays(data.subset(val_idx), pre),
    )
    started = time.perf_counter()
    models = []
    for m in range(members):
        torch.manual_seed(cfg.seed + m)
        net = ResNet1d(
            ResNetConfig(channels=[int(c) for c in args.channels.split(",")], n_labels=len(data.labels))
        )
        fit_classifier(
            net, train_arr, val_arr, cfg, torch.Generator().manual_seed(cfg.seed + m), desc="resnet"
        )
        models.append(net.eval())
    seconds = time.perf_counter() - started
    val_probs = np.mean([predict_arrays(m, val_arr) for m in models], axis=0)
    thresholds = choose_thresholds(val_arr.y, val_probs)
    resnet = Predictor(models, data.labels, thresholds, pre, "resnet1d-baseline", args.threads)  # type: ignore[arg-type]
    cae = Predictor.load(args.model, torch_threads=args.threads)
    test = data.subset(test_idx)
    rep_resnet, rep_cae = evaluate_predictor(resnet, test), evaluate_predictor(cae, test)
    params = sum(p.numel() for p in models[0].parameters())
    cae_params = sum(p.numel() for p in cae.models[0].parameters())
    print(format_report(rep_resnet))
    print(f"\nheld-out per-label AUROC (labels with >= {rep_cae['min_positives']} positives)")
    print(f"{'code':>5} {'pos':>4} {'CAE':>6} {'ResNet':>7}")
    for a, b in zip(rep_cae["per_label"], rep_resnet["per_label"], strict=True):
        if a["included_in_macro"]:
            print(f"{a['code']:>5} {a['positives']:>4} {a['auroc']:6.3f} {b['auroc']:7.3f}")
    print(f"macro  CAE {rep_cae['macro_auroc']:.3f} ({cae_params:,} params, {len(cae.models)} member(s), "
          f"trained {ckpt.training.get('seconds')} s)  ResNet {rep_resnet['macro_auroc']:.3f} "
          f"({params:,} params, {members} member(s), trained {seconds:.0f} s)")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({"cae": rep_cae, "resnet": rep_resnet, "resnet_seconds": seconds,
                                         "resnet_params": params, "cae_params": cae_params}, indent=2))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
