"""Model shapes, latent size and checkpoint round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from model.checkpoint import load_checkpoint, save_checkpoint
from model.demographics import demographics
from model.labels import Label
from model.network import CAEClassifier, CAEConfig
from model.preprocessing import PreprocessConfig


@pytest.mark.parametrize("window", [1000, 2500, 5000])
def test_shapes_and_latent_smaller_than_input(window: int) -> None:
    cfg = CAEConfig(window=window, n_labels=59)
    net = CAEClassifier(cfg).eval()
    x = torch.randn(2, 12, window)
    with torch.inference_mode():
        z = net.autoencoder.encode(x)
        assert z.shape == (2, cfg.latent_channels, cfg.latent_length)
        assert net.autoencoder(x).shape == x.shape
        assert net(x, torch.zeros(2, 4)).shape == (2, 59)
    assert cfg.latent_size * 4 < 12 * window


def test_demographics_imputation() -> None:
    d = demographics([60.0, None, 78.0], ["M", None, "f"])
    np.testing.assert_allclose(d, [[0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 1]])


def test_checkpoint_round_trip_weights_only(tmp_path: Path) -> None:
    torch.manual_seed(0)
    net = CAEClassifier(CAEConfig(n_labels=2)).eval()
    labels = (Label(21, "Sinus tachycardia", "C"), Label(310, "Frequent", "Modifier"))
    path = save_checkpoint(tmp_path / "m.pt", [net], PreprocessConfig(), labels, [0.3, 0.6], "v-test",
                           {"metrics": {"auroc": np.float32(0.9)}, "split": (1, 2)})  # fmt: skip
    raw = torch.load(path, weights_only=True)
    assert raw["version"] == "v-test" and raw["preprocess"]["high_hz"] == 40.0
    ckpt = load_checkpoint(path)
    assert ckpt.labels == labels and ckpt.thresholds == pytest.approx([0.3, 0.6])
    assert ckpt.preprocess == PreprocessConfig() and ckpt.model_config == net.cfg
    x, d = torch.randn(1, 12, 1000), torch.zeros(1, 4)
    with torch.inference_mode():
        torch.testing.assert_close(ckpt.models[0](x, d), net(x, d), atol=2e-3, rtol=1e-2)
