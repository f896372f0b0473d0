"""Named training recipes for cross-validation: the shipped CAE, its variants, and the ResNet baselines.

A recipe is an architecture plus ``TrainConfig`` overrides. ``fit_member`` trains one ensemble
member on preprocessed arrays (stage 1 autoencoder when the recipe has one, then the classifier,
early-stopped on ``val``) and returns the model in eval mode on the CPU.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import torch
import torch.nn as nn

from model.network import CAEClassifier, CAEConfig
from model.preprocessing import PreprocessConfig
from model.resnet import RESNET_1M, RESNET_WIDE, ResNet1d, ResNetConfig
from model.training.data import SphDataset, patient_split
from model.training.fit import (
    Arrays,
    TrainConfig,
    TrainResult,
    fit_autoencoder,
    fit_classifier,
    predict_arrays,
    prepare_arrays,
)
from model.training.metrics import choose_thresholds

__all__ = [
    "Recipe",
    "RECIPES",
    "get_recipe",
    "parse_ensemble",
    "build_model",
    "fit_member",
    "parameter_count",
    "train_recipes",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recipe:
    name: str
    description: str
    architecture: str  # "cae" (CAEClassifier: autoencoder stage + classifier) or "resnet" (plain supervised)
    train: dict = field(default_factory=dict)  # TrainConfig overrides
    resnet: ResNetConfig | None = None

    def config(self, **overrides: object) -> TrainConfig:
        return replace(TrainConfig(), **{**self.train, **overrides})  # type: ignore[arg-type]


_BUDGET = 75  # the shipped CAE's 15 autoencoder + 60 classifier epochs; ResNets get them all
RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in [
        Recipe("cae", "shipped CAE: conv encoder 16-32-64-64-64, AE pre-training, fine-tuned", "cae"),
        Recipe(
            "cae-resnet",
            "CAE with the 1.0M ResNet as encoder, denoising + masking AE pre-training, fine-tuned",
            "cae",
            {
                "encoder": "resnet",
                "channels": list(RESNET_1M.channels),
                "latent_channels": 144,
                "ae_noise": 0.1,
                "ae_mask": 0.15,
            },
        ),  # fmt: skip
        Recipe(
            "cae-resnet-joint",
            "CAE with the 1.0M ResNet as encoder, trained jointly on classification + reconstruction (weight 0.5)",
            "cae",
            {
                "encoder": "resnet",
                "channels": list(RESNET_1M.channels),
                "latent_channels": 144,
                "ae_epochs": 0,
                "epochs": _BUDGET,
                "recon_weight": 0.5,
                "encoder_lr_factor": 1.0,
            },
        ),  # fmt: skip
        Recipe(
            "cae-denoise",
            "shipped CAE with denoising + masking AE pre-training",
            "cae",
            {"ae_noise": 0.1, "ae_mask": 0.15},
        ),
        Recipe(
            "resnet-1m",
            "plain supervised 1-D ResNet, 1.0M parameters",
            "resnet",
            {"epochs": _BUDGET},
            RESNET_1M,
        ),  # fmt: skip
        Recipe(
            "resnet-1m-shift",
            "1.0M ResNet with the levers for other sites: site-shift augmentation (model.training.augment), "
            "label smoothing 0.05, weight averaging over the last 40 % of epochs (no early stop)",
            "resnet",
            {"epochs": _BUDGET, "augment_shift": True, "label_smoothing": 0.05, "swa_start": 0.6},
            RESNET_1M,
        ),  # fmt: skip
        Recipe(
            "resnet-wide",
            "plain supervised wide 1-D ResNet, 3.3M parameters",
            "resnet",
            {"epochs": _BUDGET},
            RESNET_WIDE,
        ),  # fmt: skip
    ]
}


def get_recipe(name: str) -> Recipe:
    if name not in RECIPES:
        raise KeyError(f"unknown recipe {name!r}; known: {', '.join(RECIPES)}")
    return RECIPES[name]


def parse_ensemble(specs: Sequence[str]) -> list[tuple[Recipe, int]]:
    """``["cae:3", "resnet-1m:1"]`` -> recipes with their member counts (``NAME`` alone: 1 member)."""
    out = []
    for spec in specs:
        name, _, count = spec.partition(":")
        members = int(count) if count else 1
        if members < 1:
            raise ValueError(f"{spec!r}: at least one member")
        out.append((get_recipe(name), members))
    return out


def build_model(recipe: Recipe, cfg: TrainConfig, n_labels: int, window: int) -> nn.Module:
    if recipe.architecture == "resnet":
        assert recipe.resnet is not None
        return ResNet1d(replace(recipe.resnet, n_labels=n_labels))
    mcfg = CAEConfig(window=window, channels=list(cfg.channels), latent_channels=cfg.latent_channels,
                     n_labels=n_labels, encoder=cfg.encoder)  # fmt: skip
    return CAEClassifier(mcfg)


def parameter_count(model: nn.Module, inference_only: bool = True) -> int:
    """Parameters; for a CAE ``inference_only`` leaves out the decoder (not run at inference)."""
    skip = set()
    if inference_only and isinstance(model, CAEClassifier):
        skip = {id(p) for p in model.autoencoder.decoder.parameters()}
    return sum(p.numel() for p in model.parameters() if id(p) not in skip)


def fit_member(
    recipe: Recipe,
    cfg: TrainConfig,
    train: Arrays,
    val: Arrays,
    seed: int,
    device: torch.device,
    unlabeled: np.ndarray | None = None,
) -> nn.Module:
    """Train one member; ``unlabeled`` (W, 12, T) windows join ``train`` for the autoencoder stage."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = build_model(recipe, cfg, train.y.shape[1], train.x.shape[-1]).to(device)
    if isinstance(model, CAEClassifier) and cfg.ae_epochs > 0:
        ae_train = train
        if unlabeled is not None and len(unlabeled):
            ae_train = Arrays(np.concatenate([train.x, unlabeled]), train.owner, train.demo, train.y)
        fit_autoencoder(model, ae_train, val, cfg, gen)
    fit_classifier(model, train, val, cfg, gen, desc=f"{recipe.name} classifier")
    return model.cpu().eval()


def train_recipes(
    data: SphDataset,
    parts: Sequence[tuple[Recipe, int]],
    seed: int = 0,
    threads: int = 2,
    device: str = "cpu",
    overrides: dict[str, object] | None = None,
) -> TrainResult:
    """Train an ensemble of one or more recipes exactly as cross-validation trains a fold's members
    (same configs), on the patient split's training part with early stopping on its validation part;
    members of every recipe get seeds seed, seed+1, ... ``overrides`` replace config fields of every
    recipe (tests: fewer epochs). Thresholds: validation F1-optimal."""
    from model.training.device import resolve_device

    started = time.perf_counter()
    torch.set_num_threads(threads)
    torch_device = resolve_device(device)
    extra = dict(overrides or {})
    configs = [
        recipe.config(seed=seed, threads=threads, device=device, progress=False, **extra) for recipe, _ in parts
    ]
    rates = {(c.rate, c.window_s) for c in configs}
    if len(rates) != 1:
        raise ValueError("the recipes of one ensemble must share the input rate and window")
    pre = PreprocessConfig(fs=configs[0].rate, window_s=configs[0].window_s)
    split = patient_split(data.patient_ids, seed=seed)
    train_arr, val_arr = (
        prepare_arrays(data.subset(split[0]), pre),
        prepare_arrays(data.subset(split[1]), pre),
    )
    models: list[nn.Module] = []
    for (recipe, members), cfg in zip(parts, configs, strict=True):
        for member in range(members):
            logger.info(
                "training member", extra={"recipe": recipe.name, "member": member, "seed": seed + member}
            )
            models.append(fit_member(recipe, cfg, train_arr, val_arr, seed + member, torch_device))
    val_probs = np.mean([predict_arrays(m, val_arr) for m in models], axis=0)
    seconds = time.perf_counter() - started
    logger.info("training finished", extra={"seconds": round(seconds, 1), "members": len(models)})
    return TrainResult(
        models, choose_thresholds(val_arr.y, val_probs), split, val_probs, [], seconds, configs[0]
    )
