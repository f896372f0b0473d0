"""Training device choice and mixed precision (``ecgstream train --device auto|cpu|cuda``).

On CUDA the forward pass runs under ``torch.autocast``: bfloat16 where the GPU supports it (no
loss scaling needed), otherwise float16 with a ``torch.amp.GradScaler``. On CPU everything stays
float32 (bit-for-bit the previous behaviour).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import torch

__all__ = ["DEVICE_CHOICES", "resolve_device", "Precision"]

logger = logging.getLogger(__name__)
DEVICE_CHOICES = ("auto", "cpu", "cuda")


def resolve_device(name: str, cuda_available: bool | None = None) -> torch.device:
    """``auto`` -> cuda when available else cpu; ``cuda`` without a GPU raises ``RuntimeError``."""
    if name not in DEVICE_CHOICES:
        raise ValueError(f"device must be one of {DEVICE_CHOICES}, not {name!r}")
    available = torch.cuda.is_available() if cuda_available is None else cuda_available
    if name == "cuda" and not available:
        raise RuntimeError("--device cuda was requested but torch sees no CUDA device")
    chosen = torch.device("cuda" if name == "cuda" or (name == "auto" and available) else "cpu")
    logger.info("training device", extra={"requested": name, "device": str(chosen)})
    return chosen


class Precision:
    """Autocast + (when float16) gradient scaling for one device; a no-op on CPU."""

    def __init__(self, device: torch.device, bf16_supported: bool | None = None) -> None:
        self.device = device
        self.enabled = device.type == "cuda"
        if bf16_supported is None:
            bf16_supported = self.enabled and torch.cuda.is_bf16_supported()
        self.dtype = torch.bfloat16 if bf16_supported else torch.float16
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.enabled and self.dtype == torch.float16)

    @contextlib.contextmanager
    def autocast(self) -> Iterator[None]:
        if not self.enabled:
            yield
            return
        with torch.autocast(device_type=self.device.type, dtype=self.dtype):
            yield

    def step(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer) -> None:
        """Backward + optimizer step (scaled when float16)."""
        optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(optimizer)
        self.scaler.update()
