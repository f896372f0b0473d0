"""Pure preprocessing functions."""

from __future__ import annotations

import numpy as np
import pytest

from model.preprocessing import (
    PreprocessConfig,
    bandpass,
    detrend_linear,
    make_windows,
    preprocess_batch,
    resample,
    window_starts,
    zscore,
)
from schemas.errors import InvalidRecording


@pytest.mark.parametrize(("fs_in", "fs_out", "n_in"), [(500, 100, 5000), (1000, 100, 7000), (250, 100, 2500),
                                                      (360, 100, 3600), (128, 100, 1280), (100, 100, 1000)])  # fmt: skip
def test_resample_length_and_tone(fs_in: float, fs_out: float, n_in: int) -> None:
    t = np.arange(n_in) / fs_in
    x = np.tile(np.sin(2 * np.pi * 5 * t), (12, 1)).astype(np.float32)
    y = resample(x, fs_in, fs_out)
    assert y.shape == (12, round(n_in * fs_out / fs_in)) and y.dtype == np.float32
    ty = np.arange(y.shape[1]) / fs_out
    mid = slice(y.shape[1] // 4, 3 * y.shape[1] // 4)
    np.testing.assert_allclose(y[0, mid], np.sin(2 * np.pi * 5 * ty[mid]), atol=0.03)


@pytest.mark.parametrize(("down", "shape"), [(5, (12, 5000)), (5, (3, 12, 5001)), (10, (12, 7000)),
                                           (2, (2, 12, 2501)), (5, (12, 7))])  # fmt: skip
def test_integer_decimation_matches_resample_poly(down: int, shape: tuple[int, ...]) -> None:
    """The strided-convolution path (integer ratios) is ``resample_poly`` to within float32 rounding."""
    from scipy import signal as sps

    x = np.random.default_rng(down).normal(0.0, 1.5, shape).astype(np.float32)
    y = resample(x, 100.0 * down, 100.0)
    expected = sps.resample_poly(x, 1, down, axis=-1)
    assert y.shape == expected.shape and y.dtype == np.float32
    np.testing.assert_allclose(y, expected, rtol=0, atol=2e-6)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x**2)))


@pytest.mark.parametrize(("freq", "limit"), [(50.0, 0.2), (60.0, 0.1), (0.1, 0.05)])
def test_bandpass_attenuates_mains_and_wander(freq: float, limit: float) -> None:
    fs = 500.0
    t = np.arange(5000) / fs
    x = np.sin(2 * np.pi * freq * t)[None, None, :].repeat(12, axis=1)  # (1, 12, T)
    assert _rms(bandpass(x, fs)[..., 500:-500]) / _rms(x[..., 500:-500]) < limit


def test_bandpass_keeps_the_ecg_band() -> None:
    fs = 500.0
    t = np.arange(5000) / fs
    x = np.sin(2 * np.pi * 10 * t)[None, None, :].repeat(12, axis=1)
    assert _rms(bandpass(x, fs)[..., 500:-500]) / _rms(x[..., 500:-500]) > 0.95


@pytest.mark.parametrize("mains", [50.0, 60.0])
def test_pipeline_removes_mains_at_model_rate(mains: float) -> None:
    fs = 500.0
    t = np.arange(5000) / fs
    ecg_band = np.sin(2 * np.pi * 10 * t)
    noisy = np.tile(ecg_band + np.sin(2 * np.pi * mains * t), (12, 1)).astype(np.float32)
    clean = np.tile(ecg_band, (12, 1)).astype(np.float32)
    cfg = PreprocessConfig()
    (a,), _ = preprocess_batch([noisy], [fs], cfg)
    (b,), _ = preprocess_batch([clean], [fs], cfg)
    assert _rms(a[:, 100:-100] - b[:, 100:-100]) < 0.1


def test_detrend_matches_scipy() -> None:
    from scipy.signal import detrend

    x = np.random.default_rng(2).normal(size=(3, 12, 500)) + np.linspace(0, 5, 500)
    np.testing.assert_allclose(detrend_linear(x), detrend(x, axis=-1), atol=1e-9)


def test_zscore_per_lead() -> None:
    x = np.random.default_rng(0).normal(3.0, 2.0, (4, 12, 1000)).astype(np.float32)
    x[0, 5] = 0.0  # a flat lead stays finite
    z = zscore(x)
    assert np.all(np.isfinite(z))
    np.testing.assert_allclose(z[1:].mean(-1), 0, atol=1e-4)
    np.testing.assert_allclose(z[1:].std(-1), 1, atol=1e-3)


@pytest.mark.parametrize(
    ("n", "starts"), [(1000, [0]), (1500, [0, 500]), (2200, [0, 500, 1000, 1200]), (700, [0])]
)
def test_window_starts_cover_the_tail(n: int, starts: list[int]) -> None:
    assert window_starts(n, 1000, 500) == starts


def test_short_record_is_wrap_padded() -> None:
    x = np.arange(12 * 600, dtype=np.float32).reshape(12, 600)
    w = make_windows(x, 1000, 500)
    assert w.shape == (1, 12, 1000)
    np.testing.assert_array_equal(w[0, :, 600:], x[:, :400])


def test_batch_of_mixed_rates_and_lengths() -> None:
    rng = np.random.default_rng(1)
    cfg = PreprocessConfig()
    sig = [rng.normal(size=(12, 5000)), rng.normal(size=(12, 3000)), rng.normal(size=(12, 20 * 1000))]
    windows, owner = preprocess_batch(sig, [500, 500, 1000], cfg)
    assert windows.shape == (1 + 1 + 3, 12, cfg.window)
    assert owner.tolist() == [0, 1, 2, 2, 2]
    assert windows.dtype == np.float32


@pytest.mark.parametrize(("shape", "fs", "reason"), [((12, 2000), 500, "too_short"), ((12, 499), 100, "too_short"),
                                                     ((8, 5000), 500, "bad_shape"), ((12, 5000), 50, "bad_rate")])  # fmt: skip
def test_invalid_inputs_raise(shape: tuple[int, int], fs: float, reason: str) -> None:
    with pytest.raises(InvalidRecording) as info:
        preprocess_batch([np.zeros(shape, np.float32)], [fs], PreprocessConfig())
    assert info.value.reason == reason
