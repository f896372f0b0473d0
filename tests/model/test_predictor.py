"""The Predictor API on a tiny model trained on synthetic data, and the shipped checkpoint."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from model.predictor import BatchPrediction, Predictor
from model.training.data import read_sph_dataset
from model.training.metrics import per_label_metrics
from schemas.errors import InvalidRecording


def test_tiny_training_learns_planted_rates(tiny_checkpoint: Path, synthetic_test_dir: Path) -> None:
    predictor = Predictor.load(tiny_checkpoint, torch_threads=1)
    data = read_sph_dataset(synthetic_test_dir)
    signals = [s.astype(np.float32) for s in data.signals]
    pred = predictor.predict(signals, [data.fs] * len(signals), data.ages, data.sexes)
    y = data.targets()
    rows = per_label_metrics(y, pred.probabilities, predictor.thresholds)
    auroc = {label.code: row["auroc"] for label, row in zip(predictor.labels, rows, strict=True)}
    assert auroc[21] > 0.8 and auroc[22] > 0.8


def test_predict_mixed_lengths_rates_and_missing_demographics(tiny_checkpoint: Path) -> None:
    predictor = Predictor.load(tiny_checkpoint, torch_threads=1)
    rng = np.random.default_rng(0)
    signals = [rng.normal(size=(12, n)).astype(np.float32) for n in (5000, 3000, 36000, 1000)]
    pred = predictor.predict(signals, [500, 500, 1000, 200], [63, None, 40, None], ["F", None, "M", "X"])
    assert isinstance(pred, BatchPrediction)
    assert pred.probabilities.shape == (4, len(predictor.labels)) and pred.probabilities.dtype == np.float32
    assert np.all((pred.probabilities >= 0) & (pred.probabilities <= 1))
    assert pred.preprocess_seconds > 0 and pred.inference_seconds > 0
    statements = predictor.statements(pred.probabilities)
    assert len(statements) == 4
    for row, probs in zip(statements, pred.probabilities, strict=True):
        values = [p for _, p in row]
        assert values == sorted(values, reverse=True)
        assert len(row) == int(np.sum(probs >= predictor.thresholds))


def test_long_record_is_max_over_windows(tiny_checkpoint: Path, synthetic_test_dir: Path) -> None:
    from model.demographics import demographics
    from model.preprocessing import preprocess_batch

    predictor = Predictor.load(tiny_checkpoint, torch_threads=1)
    data = read_sph_dataset(synthetic_test_dir, limit=2)
    both = np.concatenate([s.astype(np.float32) for s in data.signals], axis=1)  # 20 s
    windows, owner = preprocess_batch([both], [500], predictor.preprocess)
    assert len(windows) == 3  # 0-10 s, 5-10 s stride: 5-15 s, 10-20 s
    per_window = predictor.forward_windows(windows, demographics([50] * 3, ["M"] * 3))
    joined = predictor.predict([both], [500], [50], ["M"]).probabilities[0]
    expected = predictor.calibration.apply(per_window.max(axis=0, keepdims=True))[0]  # calibrate(max)
    np.testing.assert_allclose(joined, expected, rtol=1e-5, atol=1e-6)


def test_too_short_raises(tiny_checkpoint: Path) -> None:
    predictor = Predictor.load(tiny_checkpoint, torch_threads=1)
    with pytest.raises(InvalidRecording) as info:
        predictor.predict([np.zeros((12, 2400), np.float32)], [500], [None], [None])
    assert info.value.reason == "too_short"


def test_shipped_checkpoint_loads() -> None:
    from core.config import DEFAULT_MODEL_PATH

    if not DEFAULT_MODEL_PATH.exists():
        pytest.skip("no shipped checkpoint")
    predictor = Predictor.load(DEFAULT_MODEL_PATH, torch_threads=1)
    assert len(predictor.labels) == 59 and predictor.thresholds.shape == (59,)
    # the version names the recipes of every member (issue 17: 3 CAE members + 1 ResNet member)
    assert predictor.version.startswith(("cae-", "caex")) and predictor.fs in (100.0, 250.0, 500.0)
    assert sum(label.is_modifier for label in predictor.labels) == 15
    # format 2: OOF-fitted Platt calibration for the learnable labels, thresholds within 0.05-0.95
    assert np.any(predictor.calibration.slope != 1)
    assert np.all((predictor.thresholds >= 0.05) & (predictor.thresholds <= 0.95))
