"""The convolutional autoencoder (CAE) and its multi-label head. No IO.

Input contract: x (B, 12, T) float32, leads I II III aVR aVL aVF V1-V6, preprocessed by
``model.preprocessing.preprocess_batch`` (band-passed, z-scored per lead) at the checkpoint's rate;
demographics d (B, 4) = [age_z, age_missing, is_male, is_female] (see ``model.demographics``).
Output: logits (B, L) in the checkpoint's label order; sigmoid gives probabilities.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

from model.demographics import N_DEMOGRAPHICS
from model.resnet import ResNetConfig, ResNetEncoder

__all__ = ["CAEConfig", "ConvAutoencoder", "CAEClassifier"]


@dataclass
class CAEConfig:
    n_leads: int = 12
    window: int = 1000  # samples per window (T)
    channels: list[int] = field(default_factory=lambda: [16, 32, 64, 64, 64])  # one stride-2 stage each
    latent_channels: int = 64
    kernel_size: int = 7
    head_hidden: int = 128
    n_labels: int = 59
    dropout: float = 0.3
    encoder: str = "conv"  # "conv": the CAE stages below; "resnet": model.resnet.ResNetEncoder stages
    blocks_per_stage: int = 2  # basic blocks per stage of the "resnet" encoder

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def latent_length(self) -> int:
        t = self.window
        for _ in self.channels:
            t = math.ceil(t / 2)
        return t

    @property
    def latent_size(self) -> int:
        return self.latent_channels * self.latent_length


class ConvBlock(nn.Module):
    """Conv-BN-GELU (stride s) then a residual Conv-BN-GELU."""

    def __init__(self, c_in: int, c_out: int, k: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(c_in, c_out, k, stride=stride, padding=k // 2, bias=False)
        self.bn1 = nn.BatchNorm1d(c_out)
        self.conv2 = nn.Conv1d(c_out, c_out, k, padding=k // 2, bias=False)
        self.bn2 = nn.BatchNorm1d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.gelu(self.bn1(self.conv1(x)))  # (B, c_out, T/stride)
        return F.gelu(x + self.bn2(self.conv2(x)))


class ConvAutoencoder(nn.Module):
    """Encoder (B, 12, T) -> latent (B, C_lat, T_lat); decoder latent -> (B, 12, T)."""

    def __init__(self, cfg: CAEConfig) -> None:
        super().__init__()
        self.cfg = cfg
        chans = [cfg.n_leads, *cfg.channels]
        if cfg.encoder == "resnet":
            rcfg = ResNetConfig(n_leads=cfg.n_leads, channels=list(cfg.channels),
                                blocks_per_stage=cfg.blocks_per_stage, kernel_size=cfg.kernel_size)  # fmt: skip
            body: list[nn.Module] = [ResNetEncoder(rcfg)]
        elif cfg.encoder == "conv":
            body = [ConvBlock(chans[i], chans[i + 1], cfg.kernel_size, 2) for i in range(len(cfg.channels))]
        else:
            raise ValueError(f"unknown encoder {cfg.encoder!r}")
        self.encoder = nn.Sequential(*body, nn.Conv1d(chans[-1], cfg.latent_channels, 1))  # (B, C_lat, T_lat)
        rev = [cfg.latent_channels, *reversed(cfg.channels)]
        layers: list[nn.Module] = []
        for i in range(len(cfg.channels)):
            layers += [
                nn.Upsample(scale_factor=2, mode="nearest"),
                ConvBlock(rev[i], rev[i + 1], cfg.kernel_size, 1),
            ]
        self.decoder = nn.Sequential(
            *layers, nn.Conv1d(rev[-1], cfg.n_leads, cfg.kernel_size, padding=cfg.kernel_size // 2)
        )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)  # (B, 12, T) -> (B, C_lat, T_lat)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)[..., : self.cfg.window]  # (B, C_lat, T_lat) -> (B, 12, T)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


class CAEClassifier(nn.Module):
    """The CAE plus a fully connected head on the pooled latent and the demographics."""

    def __init__(self, cfg: CAEConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.autoencoder = ConvAutoencoder(cfg)
        self.head = nn.Sequential(
            nn.Linear(2 * cfg.latent_channels + N_DEMOGRAPHICS, cfg.head_hidden),
            nn.GELU(),
            nn.Dropout(cfg.dropout),
            nn.Linear(cfg.head_hidden, cfg.n_labels),
        )

    def classify(self, z: torch.Tensor, demo: torch.Tensor) -> torch.Tensor:
        pooled = torch.cat([z.mean(dim=-1), z.amax(dim=-1), demo], dim=1)  # (B, 2*C_lat + 4)
        return self.head(pooled)  # (B, L) logits

    def forward(self, x: torch.Tensor, demo: torch.Tensor) -> torch.Tensor:
        return self.classify(self.autoencoder.encode(x), demo)  # (B, 12, T), (B, 4) -> (B, L)
