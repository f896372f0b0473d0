"""Plain supervised 1-D ResNets: the baselines, and the encoder of the ResNet-style CAE. No IO.

Input contract as ``model.network``: x (B, 12, T) preprocessed windows, demo (B, 4); output
logits (B, L). ``ResNetConfig`` presets: ``RESNET_1M`` (about 1.0M parameters) and ``RESNET_WIDE``
(about 3.3M), the two baselines of issue 9.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

from model.demographics import N_DEMOGRAPHICS

__all__ = ["ResNetConfig", "ResNetEncoder", "ResNet1d", "RESNET_1M", "RESNET_WIDE", "BasicBlock"]


@dataclass
class ResNetConfig:
    n_leads: int = 12
    channels: list[int] = field(default_factory=lambda: [48, 64, 96, 144])  # one stage each
    blocks_per_stage: int = 2
    kernel_size: int = 7
    stem_kernel: int = 15
    n_labels: int = 59
    dropout: float = 0.3

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def downsampling(self) -> int:
        """Total stride: the stem (2) and every stage after the first (2 each)."""
        return 2 ** len(self.channels)


RESNET_1M = ResNetConfig(channels=[48, 64, 96, 144])  # 993k parameters
RESNET_WIDE = ResNetConfig(channels=[64, 128, 192, 256])  # 3.31M parameters


class BasicBlock(nn.Module):
    """Two Conv-BN layers with a (projected) identity skip; ReLU after the sum."""

    def __init__(self, c_in: int, c_out: int, stride: int, k: int = 7) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(c_in, c_out, k, stride=stride, padding=k // 2, bias=False)
        self.bn1 = nn.BatchNorm1d(c_out)
        self.conv2 = nn.Conv1d(c_out, c_out, k, padding=k // 2, bias=False)
        self.bn2 = nn.BatchNorm1d(c_out)
        self.skip: nn.Module = (
            nn.Sequential(nn.Conv1d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm1d(c_out))
            if stride != 1 or c_in != c_out
            else nn.Identity()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))  # (B, c_out, T/stride)
        return F.relu(self.skip(x) + self.bn2(self.conv2(y)))


class ResNetEncoder(nn.Module):
    """Stem (stride 2) + stages of basic blocks (stride 2 from the second): (B, 12, T) -> (B, C, T/16)."""

    def __init__(self, cfg: ResNetConfig) -> None:
        super().__init__()
        c0 = cfg.channels[0]
        self.stem = nn.Sequential(
            nn.Conv1d(cfg.n_leads, c0, cfg.stem_kernel, stride=2, padding=cfg.stem_kernel // 2, bias=False),
            nn.BatchNorm1d(c0),
            nn.ReLU(),
        )
        blocks: list[nn.Module] = []
        c = c0
        for i, c_out in enumerate(cfg.channels):
            for b in range(cfg.blocks_per_stage):
                blocks.append(BasicBlock(c, c_out, 2 if (i > 0 and b == 0) else 1, cfg.kernel_size))
                c = c_out
        self.blocks = nn.Sequential(*blocks)
        self.out_channels = c

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(self.stem(x))  # (B, C, T / downsampling)


class ResNet1d(nn.Module):
    """ResNet encoder + mean/max pooling + demographics -> dropout -> linear logits."""

    def __init__(self, cfg: ResNetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.encoder = ResNetEncoder(cfg)
        c = self.encoder.out_channels
        self.head = nn.Sequential(nn.Dropout(cfg.dropout), nn.Linear(2 * c + N_DEMOGRAPHICS, cfg.n_labels))

    def forward(self, x: torch.Tensor, demo: torch.Tensor) -> torch.Tensor:
        h = self.encoder(x)  # (B, C, T/16)
        return self.head(torch.cat([h.mean(-1), h.amax(-1), demo], dim=1))  # (B, L)
