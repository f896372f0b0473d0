"""Site-shift augmentation, weight averaging and the mixed-ensemble OOF file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from ecgstream.cli import main
from model.training.augment import SiteShift, site_shift
from model.training.crossval import load_oof

REPO = Path(__file__).resolve().parents[2]


def _batch(seed: int = 0) -> torch.Tensor:
    t = torch.arange(1000) / 100.0
    beats = torch.sin(2 * np.pi * 1.2 * t) ** 15  # a spiky quasi-ECG at 72/min, 100 Hz
    x = beats.repeat(16, 12, 1) + 0.01 * torch.randn(
        (16, 12, 1000), generator=torch.Generator().manual_seed(seed)
    )
    return (x - x.mean(2, keepdim=True)) / x.std(2, keepdim=True)


def test_site_shift_keeps_shape_unit_sd_and_zeroes_only_dropped_leads() -> None:
    x = _batch()
    y = site_shift(x, torch.Generator().manual_seed(1), rate=100.0)
    assert y.shape == x.shape and torch.isfinite(y).all()
    sd = y.std(dim=2)
    dropped = sd < 1e-6
    assert torch.allclose(sd[~dropped], torch.ones_like(sd[~dropped]), atol=1e-3)
    assert (dropped.sum(dim=1) <= SiteShift.dropout_max_leads).all()
    assert not torch.allclose(y, x, atol=0.1)  # it perturbs


def test_site_shift_is_deterministic_per_seed_and_differs_between_seeds() -> None:
    x = _batch()
    a = site_shift(x, torch.Generator().manual_seed(5), rate=100.0)
    b = site_shift(x, torch.Generator().manual_seed(5), rate=100.0)
    c = site_shift(x, torch.Generator().manual_seed(6), rate=100.0)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_site_shift_drops_leads_at_about_its_rate() -> None:
    class Always(SiteShift):
        dropout_p = 1.0

    y = site_shift(_batch(), torch.Generator().manual_seed(2), rate=100.0, s=Always)
    assert ((y.std(dim=2) < 1e-6).sum(dim=1) >= 1).all()


def test_crossval_with_the_shift_recipe_runs(synthetic_train_dir: Path, tmp_path: Path) -> None:
    oof, report = tmp_path / "oof.npz", tmp_path / "cv.json"
    code = main(["crossval", "--data", str(synthetic_train_dir), "--recipe", "resnet-1m-shift", "--folds", "3",
                 "--only-folds", "0", "--epochs", "3", "--threads", "1", "--no-progress", "--device", "cpu",
                 "--oof", str(oof), "--json", str(report)])  # fmt: skip
    assert code == 0
    z = load_oof(oof)
    assert np.isfinite(z["probabilities"]).all() and set(z["fold"]) == {0}
    assert json.loads(report.read_text())["recipe"] == "resnet-1m-shift"


def test_mixed_ensemble_averages_every_member_of_both_files(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    ids = np.array([f"R{i:03d}" for i in range(40)])
    y = (rng.random((40, 3)) < 0.3).astype(np.float32)
    fold = np.arange(40) % 4

    def write(path: Path, members: np.ndarray, order: np.ndarray, recipe: str) -> None:
        np.savez_compressed(path, ECG_ID=ids[order], labels=np.array([1, 2, 3]), y=y[order], fold=fold[order],
                            probabilities=members.mean(0)[order], member_probabilities=members[:, order],
                            recipe=np.asarray(recipe))  # fmt: skip

    a, b = rng.random((2, 40, 3)), rng.random((1, 40, 3))
    write(tmp_path / "a.npz", a, np.arange(40), "cae")
    write(tmp_path / "b.npz", b, rng.permutation(40), "resnet")  # other record order: aligned by ECG_ID
    out = tmp_path / "mix.npz"
    done = subprocess.run([sys.executable, "benchmarks/crossval.py", str(out), "--mix", str(tmp_path / "a.npz"),
                           str(tmp_path / "b.npz")], cwd=REPO, capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    z = load_oof(out)
    assert z["member_probabilities"].shape == (3, 40, 3) and str(z["recipe"]) == "caex2+resnetx1"
    order = np.argsort(z["ECG_ID"])
    expected = np.concatenate([a, b]).mean(0)
    assert np.allclose(z["probabilities"][order], expected[np.argsort(ids)])


def test_train_a_mixed_ensemble_checkpoint_serves(synthetic_train_dir: Path, tmp_path: Path) -> None:
    """``ecgstream train --recipe cae:1 --recipe resnet-1m:1``: one format-3 file, both members
    rebuilt and served by the Predictor."""
    from model.checkpoint import load_checkpoint
    from model.network import CAEClassifier
    from model.predictor import Predictor
    from model.resnet import ResNet1d

    out = tmp_path / "mixed.pt"
    code = main(["train", "--data", str(synthetic_train_dir), "--out", str(out), "--recipe", "cae:1",
                 "--recipe", "resnet-1m:1", "--epochs", "1", "--ae-epochs", "1", "--threads", "1",
                 "--no-progress", "--device", "cpu"])  # fmt: skip
    assert code == 0
    ckpt = load_checkpoint(out)
    assert [m["architecture"] for m in ckpt.members] == ["cae", "resnet"]
    assert isinstance(ckpt.models[0], CAEClassifier) and isinstance(ckpt.models[1], ResNet1d)
    assert ckpt.version.startswith("caex1+resnet-1mx1-")
    predictor = Predictor.load(out, torch_threads=1)
    rng = np.random.default_rng(0)
    result = predictor.predict([rng.standard_normal((12, 5000)).astype(np.float32)], [500.0], [60.0], ["F"])
    assert result.probabilities.shape == (1, len(ckpt.labels)) and np.isfinite(result.probabilities).all()


def test_ensemble_choice_scores_every_member_mix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks.ensemble_choice import main as choose

    rng = np.random.default_rng(1)
    ids = np.array([f"R{i:03d}" for i in range(60)])
    y = (rng.random((60, 2)) < 0.4).astype(np.float32)
    good = np.clip(y + rng.normal(0, 0.3, (2, 60, 2)), 0, 1)  # informative members
    noise = rng.random((1, 60, 2))  # an uninformative member
    for name, members in (("a", good), ("b", noise)):
        np.savez_compressed(tmp_path / f"{name}.npz", ECG_ID=ids, labels=np.array([1, 2]), y=y, fold=np.arange(60) % 3,
                            probabilities=members.mean(0), member_probabilities=members, recipe=np.asarray(name))  # fmt: skip
    assert choose([str(tmp_path / "a.npz"), str(tmp_path / "b.npz")]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines()[1:] if line.strip()]
    assert len(rows) == 3 * 2 - 1  # (0..2 of a) x (0..1 of b) without the empty mix
    assert rows[0].startswith("a x2") and rows[-1].startswith("b x1")  # best first, noise alone last


def test_ensemble_choice_paired_difference_favours_the_informative_member() -> None:
    from benchmarks.ensemble_choice import paired_single_members

    rng = np.random.default_rng(2)
    y = (rng.random((90, 2)) < 0.4).astype(float)
    good = np.clip(y + rng.normal(0, 0.3, (1, 90, 2)), 0, 1)
    noise = rng.random((1, 90, 2))
    per_fold, diffs = paired_single_members(["a", "b"], [good, noise], y, np.arange(90) % 3)
    assert len(per_fold["a"]) == 3 and min(per_fold["a"]) > max(per_fold["b"])
    mean, se = diffs[("a", "b")]
    assert mean > 0.2 and 0 <= se < mean
