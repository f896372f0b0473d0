"""model.novelty on the shipped checkpoint and real ptbxl-sph records, plus known-answer checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from model.checkpoint import LoadedCheckpoint, load_checkpoint
from model.network import CAEClassifier, CAEConfig
from model.novelty import (
    LatentReference,
    cae_members,
    latent_distance,
    latent_features,
    novelty_percentile,
    reconstruction_error,
    record_novelty,
)
from model.preprocessing import preprocess_batch
from model.training.data import read_sph_dataset
from tests.conftest import shared_data_dir

N_RECORDS = 16


@pytest.fixture(scope="module")
def shipped() -> LoadedCheckpoint:
    from core.config import DEFAULT_MODEL_PATH

    if not DEFAULT_MODEL_PATH.exists():
        pytest.skip("no shipped checkpoint")
    torch.set_num_threads(1)
    return load_checkpoint(DEFAULT_MODEL_PATH)


@pytest.fixture(scope="module")
def caes(shipped: LoadedCheckpoint) -> list[CAEClassifier]:
    """The shipped ensemble's CAE members (it also holds a ResNet, which has no autoencoder)."""
    members = cae_members(shipped.models)
    assert members, "the shipped ensemble has CAE members"
    return members


@pytest.fixture(scope="module")
def signals() -> np.ndarray:
    """(16, 12, 5000) real ptbxl-sph records (500 Hz, 10 s)."""
    data = read_sph_dataset(shared_data_dir("ptbxl-sph"), limit=N_RECORDS)
    return np.stack([s.astype(np.float32) for s in data.signals])


def windows_of(ckpt: LoadedCheckpoint, signals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return preprocess_batch(list(signals), [500.0] * len(signals), ckpt.preprocess)


def test_reconstruction_error_shape_dtype_and_determinism(
    shipped: LoadedCheckpoint, caes: list[CAEClassifier], signals: np.ndarray
) -> None:
    windows, owner = windows_of(shipped, signals)
    first = reconstruction_error(caes, windows)
    again = reconstruction_error(caes, windows.copy())
    assert first.shape == (len(windows),) and first.dtype == np.float32
    assert np.all(np.isfinite(first)) and np.all(first >= 0)
    np.testing.assert_array_equal(first, again)
    members = np.mean([reconstruction_error(m, windows) for m in caes], axis=0)
    np.testing.assert_allclose(first, members, rtol=1e-5)
    per_record = record_novelty(first, owner, N_RECORDS)
    assert per_record.shape == (N_RECORDS,) and per_record.dtype == np.float32


class _Zero(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(x)


def test_reconstruction_error_known_answers() -> None:
    """The formula alone: an exact autoencoder scores 0, one that outputs zeros 1 (flat leads excluded
    by the normalisation). The autoencoders are stand-ins because no trained one reconstructs exactly."""
    rng = np.random.default_rng(0)
    windows = rng.normal(size=(3, 12, 1000)).astype(np.float32)
    windows[2, 5:] = 0.0  # a window with flat leads: normalised by its energy, not by 12 leads
    exact, zero = CAEClassifier(CAEConfig()), CAEClassifier(CAEConfig())
    exact.autoencoder, zero.autoencoder = nn.Identity(), _Zero()  # type: ignore[assignment]
    np.testing.assert_allclose(reconstruction_error(exact, windows), 0.0, atol=1e-7)
    np.testing.assert_allclose(reconstruction_error(zero, windows), 1.0, rtol=1e-6)
    np.testing.assert_allclose(reconstruction_error([exact, zero], windows), 0.5, rtol=1e-6)


def test_record_novelty_max_and_mean() -> None:
    scores = np.array([0.2, 0.9, 0.4, 0.5], np.float32)
    owner = np.array([0, 0, 0, 2])
    np.testing.assert_allclose(record_novelty(scores, owner, 3, "max"), [0.9, -np.inf, 0.5])
    np.testing.assert_allclose(record_novelty(scores, owner, 3, "mean"), [0.5, 0.0, 0.5], rtol=1e-6)
    with pytest.raises(ValueError):
        record_novelty(scores, owner, 3, "median")  # type: ignore[arg-type]


def test_novelty_percentile() -> None:
    reference = np.arange(1, 101, dtype=np.float32)  # 1..100
    got = novelty_percentile(np.array([0.5, 1.0, 50.0, 100.0, 1e9]), reference)
    np.testing.assert_allclose(got, [0.0, 1.0, 50.0, 100.0, 100.0])
    with pytest.raises(ValueError):
        novelty_percentile(np.array([1.0]), np.array([]))


def test_latent_distance_on_the_shipped_encoder(
    shipped: LoadedCheckpoint, caes: list[CAEClassifier], signals: np.ndarray
) -> None:
    windows, _ = windows_of(shipped, signals)
    feats = [latent_features(m, windows) for m in caes]
    assert feats[0].shape == (len(windows), 2 * caes[0].cfg.latent_channels)
    refs = [LatentReference.fit(f) for f in feats]
    np.testing.assert_allclose(refs[0].distance(refs[0].mean[None]), 0.0, atol=1e-6)
    dist = latent_distance(caes, refs, windows)
    assert dist.shape == (len(windows),) and np.all(dist > 0)
    with pytest.raises(ValueError):
        latent_distance(caes, refs[:1], windows)


@pytest.mark.xfail(
    strict=True,
    reason="measured (MODEL_CARD.md, 'Novelty score'): the shipped decoder no longer inverts its encoder, "
    "which stage 2 fine-tuned without a reconstruction loss; relative error ~1.06, no better than zeros. "
    "A checkpoint whose autoencoder reconstructs should pass this: then drop the xfail.",
)
def test_artefacted_records_score_higher(
    shipped: LoadedCheckpoint, caes: list[CAEClassifier], signals: np.ndarray
) -> None:
    """Lead II flat-lined with a spike every 0.5 s: every record's novelty must rise."""
    artefacted = signals.copy()
    artefacted[:, 1] = 0.0
    artefacted[:, 1, ::250] = 20.0
    clean = reconstruction_error(caes, windows_of(shipped, signals)[0])
    spoiled = reconstruction_error(caes, windows_of(shipped, artefacted)[0])
    assert np.all(spoiled > clean)
