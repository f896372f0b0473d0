"""Novelty of a recording: how unlike the training data its preprocessed windows look to the CAE.

Input contract: (W, 12, T) float32 windows from ``model.preprocessing.preprocess_batch`` with the
checkpoint's ``PreprocessConfig`` (band-passed, z-scored per lead and window, so units do not
matter) and the (W,) record index of each window. No IO, no state: references are passed in.

Two scores per window, each averaged over the ensemble members given:

- ``reconstruction_error``: ||decode(encode(x)) - x||^2 / ||x||^2 (relative squared error; equal
  to the MSE for a window whose leads are all non-flat, since each lead has unit variance).
- ``latent_distance``: Mahalanobis distance of the pooled latent (mean and max over time, what the
  head sees) to the training windows' (``LatentReference``, Ledoit-Wolf covariance). Needs no
  decoder, so it stays meaningful when the encoder was fine-tuned after the decoder was trained.

``record_novelty`` reduces window scores to one per record (max or mean); ``novelty_percentile``
expresses a score as the percentage of training records scoring at most as much.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from sklearn.covariance import LedoitWolf

from model.network import CAEClassifier

__all__ = [
    "LatentReference",
    "cae_members",
    "latent_distance",
    "latent_features",
    "novelty_percentile",
    "reconstruction_error",
    "record_novelty",
]

Members = CAEClassifier | Sequence[CAEClassifier]


def cae_members(models: Iterable[torch.nn.Module]) -> list[CAEClassifier]:
    """The CAE members of an ensemble (a mixed one also holds ResNets, which have no autoencoder)."""
    return [m for m in models if isinstance(m, CAEClassifier)]


def _members(models: Members) -> list[CAEClassifier]:
    return [models] if isinstance(models, CAEClassifier) else list(models)


def _batches(windows: np.ndarray, batch: int) -> list[torch.Tensor]:
    x = np.ascontiguousarray(windows, dtype=np.float32)
    return [torch.from_numpy(x[s : s + batch]) for s in range(0, len(x), batch)]


def reconstruction_error(models: Members, windows: np.ndarray, batch: int = 256) -> np.ndarray:
    """(W, 12, T) preprocessed windows -> (W,) relative squared reconstruction error, member mean."""
    members = _members(models)
    out = np.zeros(len(windows), dtype=np.float64)
    with torch.inference_mode():
        for m in members:
            m.eval()
            errors = []
            for x in _batches(windows, batch):
                r = m.autoencoder(x)  # (B, 12, T)
                num = ((r - x) ** 2).sum(dim=(1, 2))
                errors.append((num / (x**2).sum(dim=(1, 2)).clamp_min(1e-6)).double().numpy())
            out += np.concatenate(errors) if errors else 0.0
    return (out / len(members)).astype(np.float32)


def latent_features(model: CAEClassifier, windows: np.ndarray, batch: int = 256) -> np.ndarray:
    """(W, 12, T) -> (W, 2 * C_lat) pooled latent [mean over time, max over time] of one member."""
    feats = []
    with torch.inference_mode():
        model.eval()
        for x in _batches(windows, batch):
            z = model.autoencoder.encode(x)  # (B, C_lat, T_lat)
            feats.append(torch.cat([z.mean(dim=-1), z.amax(dim=-1)], dim=1).numpy())
    return np.concatenate(feats) if feats else np.zeros((0, 2 * model.cfg.latent_channels), np.float32)


@dataclass(frozen=True)
class LatentReference:
    """Mean and (shrunk) precision matrix of one member's training-window latent features."""

    mean: np.ndarray  # (F,)
    precision: np.ndarray  # (F, F)

    @classmethod
    def fit(cls, features: np.ndarray) -> LatentReference:
        """Ledoit-Wolf estimate from (N, F) training features."""
        lw = LedoitWolf().fit(np.asarray(features, dtype=np.float64))
        return cls(lw.location_, lw.precision_)

    def distance(self, features: np.ndarray) -> np.ndarray:
        """(N, F) -> (N,) Mahalanobis distance to the reference."""
        d = np.asarray(features, dtype=np.float64) - self.mean
        return np.sqrt(np.einsum("nf,fg,ng->n", d, self.precision, d).clip(min=0.0))


def latent_distance(
    models: Members, references: Sequence[LatentReference], windows: np.ndarray
) -> np.ndarray:
    """(W, 12, T) -> (W,) Mahalanobis distance of each window's latent, mean over members."""
    members = _members(models)
    if len(members) != len(references):
        raise ValueError(f"{len(members)} members but {len(references)} references")
    dists = [ref.distance(latent_features(m, windows)) for m, ref in zip(members, references, strict=True)]
    return np.mean(dists, axis=0).astype(np.float32)


def record_novelty(
    window_scores: np.ndarray, owner: np.ndarray, n_records: int, how: Literal["max", "mean"] = "max"
) -> np.ndarray:
    """(W,) window scores + (W,) record index -> (n_records,) per-record max or mean."""
    scores = np.asarray(window_scores, dtype=np.float64)
    owner = np.asarray(owner, dtype=np.int64)
    if how == "max":
        out = np.full(n_records, -np.inf)
        np.maximum.at(out, owner, scores)
    elif how == "mean":
        out = np.bincount(owner, weights=scores, minlength=n_records) / np.maximum(
            np.bincount(owner, minlength=n_records), 1
        )
    else:
        raise ValueError(f"how must be 'max' or 'mean', not {how!r}")
    return out.astype(np.float32)


def novelty_percentile(scores: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Percentage (0-100) of ``reference`` (training-record) scores <= each of ``scores``."""
    ref = np.sort(np.asarray(reference, dtype=np.float64))
    if ref.size == 0:
        raise ValueError("empty reference")
    ranks = np.searchsorted(ref, np.asarray(scores, dtype=np.float64), side="right")
    return (100.0 * ranks / ref.size).astype(np.float32)
