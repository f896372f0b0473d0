"""The measurement code's faster equivalents of scipy/numpy calls give the very same numbers (bit for
bit) as the calls they replace, on real records and on random input with ties."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import signal as sps
from scipy.ndimage import median_filter

from measurements.filters import AMPLITUDE_HZ, DIAGNOSTIC_HZ, _band, _filter
from measurements.order_stats import percentile_last_axis, sort_median
from measurements.pacing import _running_median

LUDB = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "ludb"


def _ludb_signal() -> np.ndarray:
    if not (LUDB / "1.hea").exists():
        pytest.skip(f"shared LUDB data not found at {LUDB}")
    import wfdb

    return np.asarray(wfdb.rdrecord(str(LUDB / "1")).p_signal.T)


@pytest.mark.parametrize("band", [DIAGNOSTIC_HZ, AMPLITUDE_HZ])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int16])
@pytest.mark.parametrize("fs", [250.0, 500.0, 1000.0])
def test_band_pass_equals_sosfiltfilt(band: tuple[float, float], dtype: type, fs: float) -> None:
    rng = np.random.default_rng(0)
    for shape in [(12, 5000), (5000,), (12, 120), (2, 12, 900), (12, 2)]:
        x = (100 * rng.standard_normal(shape)).astype(dtype)
        sos, _ = _band(fs, band[0], band[1], 2)
        expected = sps.sosfiltfilt(sos, x, axis=-1, padlen=min(x.shape[-1] - 1, int(fs)))
        got = _filter(x, fs, band, 2)
        assert got.dtype == expected.dtype
        assert np.array_equal(got, expected), shape


def test_band_pass_equals_sosfiltfilt_on_a_real_record() -> None:
    x = _ludb_signal()
    sos, _ = _band(500.0, *DIAGNOSTIC_HZ, 2)
    assert np.array_equal(_filter(x, 500.0, DIAGNOSTIC_HZ, 2), sps.sosfiltfilt(sos, x, axis=-1, padlen=500))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_percentile_equals_numpy(dtype: type) -> None:
    rng = np.random.default_rng(1)
    for trial in range(120):
        n = int(rng.integers(1, 400) if trial % 2 else rng.integers(400, 6000))  # short: no prefilter
        shape = [(12, n), (n,), (3, 4, n)][trial % 3]
        a = rng.standard_normal(shape)
        if trial % 4 == 0:
            a = np.round(a, 1)  # many ties
        if trial % 7 == 0:
            a = np.sort(a, axis=-1)  # the every-8th-sample threshold sees only part of the range
        a = a.astype(dtype)
        for q in (99.5, 99, 5.0, 50, 0, 100, 0.5, 37.3, [0.5, 99.5], (1, 99)):
            expected = np.percentile(a, q, axis=-1)
            got = percentile_last_axis(a, q)
            assert type(got) is type(expected)
            assert np.asarray(got).dtype == np.asarray(expected).dtype
            assert np.shape(got) == np.shape(expected)
            assert np.array_equal(got, expected), (shape, q)


def test_percentile_equals_numpy_on_a_real_record() -> None:
    slope = np.abs(np.diff(_ludb_signal(), axis=1))
    assert np.array_equal(percentile_last_axis(slope, 99.5), np.percentile(slope, 99.5, axis=1))
    assert np.array_equal(percentile_last_axis(slope, [0.5, 99.5]), np.percentile(slope, [0.5, 99.5], axis=1))


def test_median_equals_numpy() -> None:
    rng = np.random.default_rng(2)
    for n in range(1, 30):
        a = np.round(rng.standard_normal((12, 50, n)), 1)
        for axis in (0, 1, -1):
            assert np.array_equal(sort_median(a, axis=axis), np.median(a, axis=axis))


@pytest.mark.parametrize("width", [3, 5, 7])
def test_running_median_equals_median_filter(width: int) -> None:
    rng = np.random.default_rng(3)
    for _ in range(50):
        seg = np.round(
            rng.standard_normal((12, int(rng.integers(1, 9)), int(rng.integers(width + 1, 200)))), 1
        )
        expected = median_filter(seg, size=(1, 1, width), mode="nearest")
        assert np.array_equal(_running_median(seg, width), expected)
