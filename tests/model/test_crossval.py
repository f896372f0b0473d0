"""Patient-grouped folds, cross-validation on synthetic SPH data, the crossval command, --device."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from ecgstream.cli import main
from model.training.crossval import load_oof
from model.training.device import Precision, resolve_device
from model.training.fit import _corrupt
from model.training.folds import inner_split, patient_kfold


def test_folds_group_patients_and_spread_labels() -> None:
    rng = np.random.default_rng(0)
    patients = [f"p{rng.integers(0, 300)}" for _ in range(600)]
    y = (rng.random((600, 4)) < [0.5, 0.1, 0.03, 0.0]).astype(float)
    fold = patient_kfold(patients, y, k=5, seed=0)
    assert set(fold) == set(range(5))
    for p in set(patients):
        assert len({fold[i] for i, q in enumerate(patients) if q == p}) == 1
    for j in range(3):
        per_fold = np.bincount(fold[y[:, j] > 0], minlength=5)
        assert per_fold.min() >= per_fold.max() - 3, (j, per_fold)
    np.testing.assert_array_equal(fold, patient_kfold(patients, y, k=5, seed=0))
    fit, stop = inner_split(patients, 0.1, seed=0)
    assert not {patients[i] for i in fit} & {patients[i] for i in stop}
    assert len(fit) + len(stop) == 600
    with pytest.raises(ValueError):
        patient_kfold(["a", "b"], y[:2], k=5)


def test_crossval_command_writes_oof_for_every_record(synthetic_train_dir: Path, tmp_path: Path) -> None:
    oof, report = tmp_path / "oof.npz", tmp_path / "cv.json"
    code = main(["crossval", "--data", str(synthetic_train_dir), "--recipe", "cae", "--folds", "3",
                 "--ae-epochs", "1", "--epochs", "2", "--threads", "1", "--no-progress", "--device", "cpu",
                 "--oof", str(oof), "--json", str(report)])  # fmt: skip
    assert code == 0
    z = load_oof(oof)
    assert len(z["ECG_ID"]) == 60 and z["probabilities"].shape == (60, 59) and set(z["fold"]) == {0, 1, 2}
    assert np.isfinite(z["probabilities"]).all() and len(set(z["ECG_ID"])) == 60
    scores = json.loads(report.read_text())
    assert scores["recipe"] == "cae" and len(scores["fold_macro_auroc"]) == 3

    # train --oof: calibration and thresholds come from those OOF predictions
    ckpt = tmp_path / "oof.pt"
    assert main(["train", "--data", str(synthetic_train_dir), "--out", str(ckpt), "--ae-epochs", "1",
                 "--epochs", "1", "--threads", "1", "--no-progress", "--members", "1", "--device", "cpu",
                 "--oof", str(oof)]) == 0  # fmt: skip
    raw = torch.load(ckpt, weights_only=True)
    learnable = (z["y"].sum(0) >= 10) & (z["y"].sum(0) < len(z["y"]))
    assert learnable.any()
    slope = np.asarray(raw["calibration"]["slope"])
    assert np.all(slope[~learnable] == 1) and np.any(slope[learnable] != 1)
    thresholds = np.asarray(raw["thresholds"])
    assert np.all((thresholds[learnable] >= 0.05) & (thresholds[learnable] <= 0.95))
    assert raw["training"]["decisions"]["source"] == "oof.npz"


def test_unknown_recipe_is_rejected(synthetic_train_dir: Path) -> None:
    with pytest.raises(KeyError, match="unknown recipe"):
        main(["crossval", "--data", str(synthetic_train_dir), "--recipe", "nope"])


# no GPU in CI: the float16 scaler is built (and warns) but never used
@pytest.mark.filterwarnings("ignore:torch.cuda.amp.GradScaler is enabled")
def test_device_selection() -> None:
    assert resolve_device("auto", cuda_available=False).type == "cpu"
    assert resolve_device("auto", cuda_available=True).type == "cuda"
    assert resolve_device("cpu", cuda_available=True).type == "cpu"
    with pytest.raises(RuntimeError, match="no CUDA"):
        resolve_device("cuda", cuda_available=False)
    with pytest.raises(ValueError):
        resolve_device("tpu")
    cpu = Precision(torch.device("cpu"))
    assert not cpu.enabled and not cpu.scaler.is_enabled()
    fp16 = Precision(torch.device("cuda"), bf16_supported=False)
    assert fp16.enabled and fp16.dtype == torch.float16
    assert Precision(torch.device("cuda"), bf16_supported=True).dtype == torch.bfloat16


def test_train_device_cpu_tiny_model(synthetic_train_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "cpu.pt"
    code = main(["train", "--data", str(synthetic_train_dir), "--out", str(out), "--ae-epochs", "1",
                 "--epochs", "2", "--batch-size", "16", "--threads", "1", "--no-progress", "--members", "1",
                 "--device", "cpu"])  # fmt: skip
    assert code == 0
    raw = torch.load(out, weights_only=True)
    assert raw["training"]["config"]["device"] == "cpu" and raw["format"] == 3


def test_denoising_masking_corruption() -> None:
    gen = torch.Generator().manual_seed(0)
    x = torch.ones(8, 12, 1000)
    masked = _corrupt(x, gen, noise=0.0, mask=0.15, window=20)
    zero = (masked == 0).float().mean().item()
    assert 0.08 < zero < 0.16  # spans may overlap, so at most the requested fraction
    assert torch.equal(_corrupt(x, gen, 0.0, 0.0, 20), x)
    noisy = _corrupt(x, gen, noise=0.1, mask=0.0, window=20)
    assert 0.08 < (noisy - x).std().item() < 0.12
