"""The shipped model's predictions with the fast decimation (``model.preprocessing.resample``) and
with ``scipy.signal.resample_poly`` on the same ptbxl-sph records: the change must not move them.

    .venv/bin/python -m benchmarks.preprocessing_equivalence [--limit 512]

Prints the largest probability difference, how many (record, label) threshold decisions differ,
and the wall time of ``preprocess_batch`` per record with each (batch 32, 1 torch thread, best of 9).
"""

from __future__ import annotations

import argparse
import time
from fractions import Fraction
from pathlib import Path
from unittest import mock

import numpy as np
import torch
from scipy import signal as sps

from core.config import DEFAULT_MODEL_PATH
from model import Predictor, preprocessing
from model.training.data import read_sph_dataset

REPO = Path(__file__).resolve().parents[1]


def resample_poly(x: np.ndarray, fs_in: float, fs_out: float) -> np.ndarray:
    """The previous ``resample``: ``scipy.signal.resample_poly`` for every ratio."""
    if abs(fs_in - fs_out) < 1e-9:
        return np.asarray(x, dtype=np.float32)
    ratio = Fraction(fs_out / fs_in).limit_denominator(1000)
    y = sps.resample_poly(np.asarray(x, dtype=np.float32), ratio.numerator, ratio.denominator, axis=-1)
    return y.astype(np.float32, copy=False)


def _probabilities(predictor: Predictor, signals: list[np.ndarray], fs: float, ages: list, sexes: list) -> np.ndarray:  # type: ignore[type-arg]
    rows = []
    for start in range(0, len(signals), 32):
        part = slice(start, start + 32)
        out = predictor.predict(signals[part], [fs] * len(signals[part]), ages[part], sexes[part])
        rows.append(out.probabilities)
    return np.concatenate(rows)


def _preprocess_ms(signals: list[np.ndarray], fs: float, config: preprocessing.PreprocessConfig) -> float:
    batch = signals[:32]
    best = float("inf")
    for _ in range(10):  # the first is a warm-up
        started = time.perf_counter()
        preprocessing.preprocess_batch(batch, [fs] * len(batch), config)
        best = min(best, time.perf_counter() - started)
    return 1000 * best / len(batch)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "ptbxl-sph")
    parser.add_argument("--limit", type=int, default=512)
    args = parser.parse_args()
    data = read_sph_dataset(args.data, limit=args.limit)
    signals = [s.astype(np.float32) for s in data.signals]
    predictor = Predictor.load(DEFAULT_MODEL_PATH, torch_threads=1)
    fast = _probabilities(predictor, signals, data.fs, data.ages, data.sexes)
    with mock.patch.object(preprocessing, "resample", resample_poly):
        reference = _probabilities(predictor, signals, data.fs, data.ages, data.sexes)
    thresholds = np.asarray(predictor.thresholds)
    flips = int(np.sum((fast >= thresholds) != (reference >= thresholds)))
    print(f"records {len(signals)}, labels {fast.shape[1]}")
    print(f"max |probability difference| {np.abs(fast - reference).max():.3g}, mean {np.abs(fast - reference).mean():.3g}")
    print(f"threshold decisions that differ: {flips} of {fast.size}")
    torch.set_num_threads(1)
    config = preprocessing.PreprocessConfig()
    for round_ in range(3):
        fast_ms = _preprocess_ms(signals, data.fs, config)
        with mock.patch.object(preprocessing, "resample", resample_poly):
            reference_ms = _preprocess_ms(signals, data.fs, config)
        print(f"round {round_}: preprocess_batch {fast_ms:.2f} ms/rec (fast) vs {reference_ms:.2f} (resample_poly)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
