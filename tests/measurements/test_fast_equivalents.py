"""The measurement code's faster equivalents of scipy/numpy calls give the very same numbers (bit for
bit) as the calls they replace, on real records and on random input with ties."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import signal as sps
from scipy.ndimage import median_filter

from measurements.filters import AMPLITUDE_HZ, DIAGNOSTIC_HZ, _band, _filter
from measurements.order_stats import sort_median
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
        beats, samples = int(rng.integers(1, 9)), int(rng.integers(width + 1, 200))
        seg = np.round(rng.standard_normal((beats, samples, 12)), 1)  # (beats, samples, leads)
        expected = median_filter(seg, size=(1, width, 1), mode="nearest")
        assert np.array_equal(_running_median(seg, width), expected)
