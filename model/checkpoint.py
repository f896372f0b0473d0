"""One checkpoint file with everything inference needs; loadable with ``weights_only=True``.

Keys: ``format`` (int), ``version`` (str), ``model_config`` (CAEConfig as dict),
``preprocess`` (PreprocessConfig as dict), ``labels`` (list of {code, description, category}),
``thresholds`` (list of float), ``weights`` (list of state dicts: one per ensemble member),
``training`` (data description, split, metrics: plain Python types). Floating-point weights are
stored as float16 (``weights_dtype``) and restored to float32 when loaded.

Format 2 adds ``calibration`` (per-label Platt parameters, ``model.calibration.Calibration``;
thresholds then apply to calibrated probabilities). Format-1 files still load, with the identity
calibration (their thresholds were chosen on raw probabilities, which identity leaves unchanged).

Format 3 adds ``members``: per weight entry its ``architecture`` (``cae``: ``CAEClassifier``,
``resnet``: ``ResNet1d``) and that network's config, so one file can hold a mixed ensemble. Formats
1 and 2 hold CAE members only (``model_config`` for all of them) and still load.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from model.calibration import Calibration
from model.labels import Label
from model.network import CAEClassifier, CAEConfig
from model.preprocessing import PreprocessConfig
from model.resnet import ResNet1d, ResNetConfig

__all__ = ["CHECKPOINT_FORMAT", "SUPPORTED_FORMATS", "save_checkpoint", "load_checkpoint", "LoadedCheckpoint"]

logger = logging.getLogger(__name__)
CHECKPOINT_FORMAT = 3
SUPPORTED_FORMATS = (1, 2, 3)


def describe_member(model: nn.Module) -> dict[str, Any]:
    """The architecture and config that rebuild ``model``."""
    if isinstance(model, CAEClassifier):
        return {"architecture": "cae", "config": model.cfg.to_dict()}
    if isinstance(model, ResNet1d):
        return {"architecture": "resnet", "config": model.cfg.to_dict()}
    raise TypeError(f"cannot store a {type(model).__name__} in a checkpoint")


def build_member(description: dict[str, Any]) -> nn.Module:
    """An untrained network from ``describe_member``'s output."""
    if description["architecture"] == "cae":
        return CAEClassifier(CAEConfig(**description["config"]))
    if description["architecture"] == "resnet":
        return ResNet1d(ResNetConfig(**description["config"]))
    raise ValueError(f"unknown member architecture {description['architecture']!r}")


class LoadedCheckpoint:
    """A checkpoint rebuilt into models (eval mode) plus its metadata."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.version: str = raw["version"]
        self.preprocess = PreprocessConfig(**raw["preprocess"])
        self.labels: tuple[Label, ...] = tuple(Label(**d) for d in raw["labels"])
        self.thresholds: list[float] = [float(t) for t in raw["thresholds"]]
        self.training: dict[str, Any] = raw.get("training", {})
        cal = raw.get("calibration")
        self.calibration = Calibration.from_dict(cal) if cal else Calibration.identity(len(self.labels))
        members = raw.get("members") or [{"architecture": "cae", "config": raw["model_config"]}] * len(
            raw["weights"]
        )
        self.members: list[dict[str, Any]] = list(members)
        # the first member's config where it is a CAE (formats 1-2: every member's), else None
        first = members[0]
        self.model_config = CAEConfig(**first["config"]) if first["architecture"] == "cae" else None
        self.models: list[nn.Module] = []
        for description, state in zip(members, raw["weights"], strict=True):
            net = build_member(description)
            net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
            net.eval()
            self.models.append(net)


def save_checkpoint(
    path: str | Path,
    models: Sequence[nn.Module],
    preprocess: PreprocessConfig,
    labels: tuple[Label, ...] | list[Label],
    thresholds: list[float],
    version: str,
    training: dict[str, Any],
    calibration: Calibration | None = None,
) -> Path:
    """Write one checkpoint file (floating-point weights stored as float16 CPU tensors)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": CHECKPOINT_FORMAT,
        "version": version,
        "model_config": describe_member(models[0])["config"],
        "members": [describe_member(m) for m in models],
        "preprocess": asdict(preprocess),
        "labels": [
            {"code": lb.code, "description": lb.description, "category": lb.category} for lb in labels
        ],
        "thresholds": [float(t) for t in thresholds],
        "calibration": (calibration or Calibration.identity(len(labels))).to_dict(),
        "weights_dtype": "float16",
        "weights": [{k: _compact(v) for k, v in m.state_dict().items()} for m in models],
        "training": _plain(training),
    }
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)
    logger.info("checkpoint saved", extra={"path": str(path), "version": version, "members": len(models)})
    return path


def _compact(tensor: torch.Tensor) -> torch.Tensor:
    """Floating-point tensors are stored as float16 (half the file; restored to float32 on load)."""
    tensor = tensor.detach().cpu()
    return tensor.half().clone() if tensor.is_floating_point() else tensor.clone()


def _plain(value: Any) -> Any:
    """Plain Python types only (numpy scalars -> float/int, tuples -> lists), for weights_only loading."""

    def default(obj: Any) -> Any:
        if hasattr(obj, "item"):
            return obj.item()
        if hasattr(obj, "tolist"):
            return obj.tolist()
        return str(obj)

    return json.loads(json.dumps(value, default=default))


def load_checkpoint(path: str | Path) -> LoadedCheckpoint:
    """Read a checkpoint with ``torch.load(weights_only=True)`` and rebuild its models."""
    raw = torch.load(Path(path), map_location="cpu", weights_only=True)
    if raw.get("format") not in SUPPORTED_FORMATS:
        raise ValueError(f"unsupported checkpoint format {raw.get('format')!r} in {path}")
    return LoadedCheckpoint(raw)
