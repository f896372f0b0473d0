"""Named training recipes for cross-validation: the shipped CAE, its variants, and the ResNet baselines.

A recipe is an architecture plus ``TrainConfig`` overrides. ``fit_member`` trains one ensemble
member on preprocessed arrays (stage 1 autoencoder when the recipe has one, then the classifier,
early-stopped on ``val``) and returns the model in eval mode on the CPU.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

import numpy as np
import torch
import torch.nn as nn

from model.network import CAEClassifier, CAEConfig
from model.resnet import RESNET_1M, RESNET_WIDE, ResNet1d, ResNetConfig
from model.training import Arrays, TrainConfig, fit_autoencoder, fit_classifier

__all__ = ["Recipe", "RECIPES", "get_recipe", "build_model", "fit_member", "parameter_count"]

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
            "1.0M ResNet with the levers for other sites: site-shift augmentation (model.augment), "
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
