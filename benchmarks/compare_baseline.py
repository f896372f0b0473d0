"""Baseline: a plain supervised 1-D ResNet on the same split, preprocessing, loss and budget.

    .venv/bin/python benchmarks/compare_baseline.py --data ../shared/data/ptbxl-sph \
        [--model model/weights/ecgstream-cae.pt] [--members 1] [--json OUT]

The ResNet (no autoencoder, no pre-training) is trained with ``model.training.fit_classifier``
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
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ecgstream.config import DEFAULT_MODEL_PATH  # noqa: E402
from model.checkpoint import load_checkpoint  # noqa: E402
from model.data import patient_split, read_sph_dataset  # noqa: E402
from model.evaluation import evaluate_predictor, format_report  # noqa: E402
from model.metrics import choose_thresholds  # noqa: E402
from model.predictor import Predictor  # noqa: E402
from model.training import TrainConfig, fit_classifier, predict_arrays, prepare_arrays  # noqa: E402


class BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int, k: int = 7) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(c_in, c_out, k, stride=stride, padding=k // 2, bias=False)
        self.bn1 = nn.BatchNorm1d(c_out)
        self.conv2 = nn.Conv1d(c_out, c_out, k, padding=k // 2, bias=False)
        self.bn2 = nn.BatchNorm1d(c_out)
        self.skip = (
            nn.Sequential(nn.Conv1d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm1d(c_out))
            if stride != 1 or c_in != c_out
            else nn.Identity()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.skip(x) + self.bn2(self.conv2(y)))


class ResNet1d(nn.Module):
    """Stem + 4 stages of 2 basic blocks (stride 2 each) + avg/max pool + demographics -> logits."""

    def __init__(
        self, n_labels: int, channels: tuple[int, ...] = (32, 64, 96, 128), dropout: float = 0.3
    ) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv1d(12, channels[0], 15, stride=2, padding=7, bias=False),
                                  nn.BatchNorm1d(channels[0]), nn.ReLU())  # fmt: skip
        blocks, c = [], channels[0]
        for i, c_out in enumerate(channels):
            blocks += [BasicBlock(c, c_out, 1 if i == 0 else 2), BasicBlock(c_out, c_out, 1)]
            c = c_out
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(2 * c + 4, n_labels))

    def forward(self, x: torch.Tensor, demo: torch.Tensor) -> torch.Tensor:
        h = self.blocks(self.stem(x))  # (B, C, T/16)
        return self.head(torch.cat([h.mean(-1), h.amax(-1), demo], dim=1))  # (B, L)


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
        net = ResNet1d(len(data.labels), tuple(int(c) for c in args.channels.split(",")))
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
