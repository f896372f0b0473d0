"""Platt calibration, ECE, threshold rules, and checkpoint format 2 (old format 1 still loads)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from model.calibration import (
    Calibration,
    choose_calibrated_thresholds,
    expected_calibration_error,
    f1_optimal_threshold,
    fit_platt,
    prevalence_threshold,
    prevalence_thresholds,
)
from model.checkpoint import CHECKPOINT_FORMAT, load_checkpoint, save_checkpoint
from model.labels import Label
from model.network import CAEClassifier, CAEConfig
from model.predictor import Predictor
from model.preprocessing import PreprocessConfig
from model.training.oof_rules import compare_threshold_rules, crossfit_calibration, fit_oof_decisions


def _overconfident(n: int = 3000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Labels drawn from true probabilities q; reported p = sigmoid(3 * logit(q) + 2): over-called."""
    rng = np.random.default_rng(seed)
    z = rng.normal(-1.5, 1.2, size=(n, 2))
    q = 1 / (1 + np.exp(-z))
    y = (rng.random((n, 2)) < q).astype(float)
    p = 1 / (1 + np.exp(-(3 * z + 2)))
    return y, p


def test_platt_reduces_ece_and_keeps_ranking() -> None:
    y, p = _overconfident()
    cal = fit_platt(y[:2000], p[:2000])
    q = cal.apply(p[2000:])
    for j in range(2):
        before = expected_calibration_error(y[2000:, j], p[2000:, j])
        after = expected_calibration_error(y[2000:, j], q[:, j])
        assert after < 0.5 * before and after < 0.05
        assert roc_auc_score(y[2000:, j], q[:, j]) == pytest.approx(roc_auc_score(y[2000:, j], p[2000:, j]))
    assert cal.slope == pytest.approx([1 / 3, 1 / 3], abs=0.08)
    assert Calibration.from_dict(cal.to_dict()).slope == pytest.approx(cal.slope)


def test_rare_labels_keep_identity_calibration_and_default_threshold() -> None:
    y = np.zeros((200, 2))
    y[:5, 1] = 1  # 5 positives < 10
    y[:50, 0] = 1
    p = np.full((200, 2), 0.3)
    p[:50, 0] = 0.9
    cal = fit_platt(y, p)
    assert cal.slope[1] == 1 and cal.intercept[1] == 0
    np.testing.assert_array_equal(Calibration.identity(2).apply(p), p.astype(np.float32))
    t = choose_calibrated_thresholds(y, cal.apply(p))
    assert t[1] == 0.5 and 0.1 <= t[0] <= 0.9


def test_f1_threshold_and_prevalence_threshold() -> None:
    y = np.array([1, 1, 0, 1, 0, 0, 0, 0], float)
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.3, 0.2, 0.1, 0.05])
    t, f1 = f1_optimal_threshold(y, p)
    assert 0.3 < t <= 0.6 and f1 == pytest.approx(2 * 3 / (4 + 3))
    assert prevalence_threshold(y, p) == pytest.approx(0.7)


def test_prevalence_thresholds_call_at_the_oof_rate_with_bounds() -> None:
    rng = np.random.default_rng(2)
    y = np.zeros((500, 3))
    y[:100, 0] = 1  # common, well separated
    y[:30, 1] = 1  # rare, all scores tiny: the cut would fall below the floor
    y[:4, 2] = 1  # too few positives
    p = np.column_stack(
        [0.2 + 0.6 * y[:, 0] + 0.1 * rng.random(500), 0.01 * rng.random(500), rng.random(500)]
    )
    p = p.astype(np.float32)  # as Calibration.apply returns; thresholds are float32 too
    t = prevalence_thresholds(y, p)
    assert np.sum(p[:, 0] >= t[0]) == 100
    assert t[1] == pytest.approx(0.05) and t[2] == 0.5


def test_shrinkage_moves_rare_label_thresholds_toward_half() -> None:
    rng = np.random.default_rng(1)
    y = np.zeros((1000, 2))
    y[:12, 0] = 1  # rare
    y[:400, 1] = 1  # common
    p = np.clip(0.1 + 0.15 * y + 0.05 * rng.random((1000, 2)), 0, 1)
    t = choose_calibrated_thresholds(y, p, bounds=(0.0, 1.0))
    raw0 = f1_optimal_threshold(y[:, 0], p[:, 0])[0]
    raw1 = f1_optimal_threshold(y[:, 1], p[:, 1])[0]
    assert abs(t[0] - 0.5) < abs(raw0 - 0.5)  # pulled most of the way
    assert abs(t[1] - raw1) < 0.05 * abs(raw1 - 0.5) + 0.02  # common label keeps ~its own cut


def test_rule_comparison_is_cross_fitted() -> None:
    y, p = _overconfident(1500, seed=3)
    fold = np.arange(len(y)) % 5
    rows = compare_threshold_rules(y, p, fold)
    assert {r["rule"] for r in rows} >= {"calibrated 0.5", "calibrated prevalence match"}
    assert all(0 < r["macro_f1"] < 1 for r in rows)
    p_cal = crossfit_calibration(y, p, fold)
    assert np.mean(np.abs(p_cal.mean(0) - y.mean(0))) < np.mean(np.abs(p.mean(0) - y.mean(0)))


def _tiny_checkpoint(path: Path, calibration: Calibration | None) -> Path:
    torch.manual_seed(0)
    net = CAEClassifier(CAEConfig(n_labels=2)).eval()
    labels = (Label(21, "Sinus tachycardia", "C"), Label(22, "Sinus bradycardia", "C"))
    return save_checkpoint(path, [net], PreprocessConfig(), labels, [0.4, 0.6], "v-cal", {}, calibration)


def test_checkpoint_format_2_applies_calibration_and_format_1_still_loads(tmp_path: Path) -> None:
    y, p = _overconfident(800)
    cal, thresholds = fit_oof_decisions(y, p)
    new = _tiny_checkpoint(tmp_path / "new.pt", cal)
    raw = torch.load(new, weights_only=True)
    assert raw["format"] == CHECKPOINT_FORMAT == 3 and raw["calibration"]["kind"] == "platt"
    assert [m["architecture"] for m in raw["members"]] == ["cae"] * len(raw["weights"])
    assert load_checkpoint(new).calibration.slope == pytest.approx(cal.slope)
    old = _tiny_checkpoint(tmp_path / "old.pt", None)
    raw = torch.load(old, weights_only=True)
    raw["format"] = 1
    del raw["calibration"], raw["members"]  # format 1: CAE members from model_config, no calibration
    torch.save(raw, old)
    assert load_checkpoint(old).calibration.slope == pytest.approx([1, 1])

    rng = np.random.default_rng(0)
    sig = [rng.normal(size=(12, 5000)).astype(np.float32)]
    p_old = Predictor.load(old).predict(sig, [500.0], [60.0], ["M"]).probabilities
    p_new = Predictor.load(new).predict(sig, [500.0], [60.0], ["M"]).probabilities
    np.testing.assert_allclose(p_new, cal.apply(p_old), atol=1e-5)  # same weights, calibrated output
    with pytest.raises(ValueError, match="unsupported checkpoint format"):
        raw["format"] = 99
        torch.save(raw, tmp_path / "bad.pt")
        load_checkpoint(tmp_path / "bad.pt")
