"""Each reason code of validate_recording, and real data that must pass."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.sizes import DEFAULT_MAX_RECORDING_BYTES
from schemas import STANDARD_LEADS, InvalidRecording, Recording, validate_recording
from schemas.validation import estimated_encoded_size

try:
    from tests.conftest import shared_data_dir
except ImportError:  # pragma: no cover - tests/ is not a package
    from conftest import shared_data_dir  # type: ignore[no-redef]


def ecg_like(seconds: float = 10.0, fs: float = 500.0, scale: float = 1.0) -> np.ndarray:
    rng = np.random.default_rng(3)
    n = int(seconds * fs)
    t = np.arange(n) / fs
    beats = np.exp(-(((t % 0.8) - 0.4) ** 2) / (2 * 0.01**2))  # one QRS-like spike per 0.8 s
    signal = beats[None, :] * rng.uniform(0.5, 1.5, (12, 1)) + rng.normal(0, 0.02, (12, n))
    return (signal * scale).astype(np.float32)


def rec(signal: np.ndarray | None = None, fs: float = 500.0, leads=STANDARD_LEADS) -> Recording:
    return Recording(signal=ecg_like() if signal is None else signal, fs=fs, leads=tuple(leads))


def reason_of(recording: Recording, **kwargs) -> str:
    with pytest.raises(InvalidRecording) as caught:
        validate_recording(recording, **kwargs)
    assert str(caught.value)  # a human message
    return caught.value.reason


def test_a_good_recording_passes() -> None:
    validate_recording(rec())
    validate_recording(rec(ecg_like(seconds=120, fs=100), fs=100))


def test_z_scored_signals_pass() -> None:
    signal = ecg_like()
    signal = (signal - signal.mean(axis=1, keepdims=True)) / signal.std(axis=1, keepdims=True)
    validate_recording(rec(signal))


def test_wrong_lead_count() -> None:
    assert reason_of(rec(ecg_like()[:8], leads=STANDARD_LEADS[:8])) == "wrong_lead_count"
    assert reason_of(rec(ecg_like()[0])) == "wrong_lead_count"


def test_missing_leads_names_them() -> None:
    leads = list(STANDARD_LEADS)
    leads[6], leads[7] = "X1", "X2"
    with pytest.raises(InvalidRecording, match="V1, V2") as caught:
        validate_recording(rec(leads=leads))
    assert caught.value.reason == "missing_leads"


def test_wrong_lead_order() -> None:
    assert reason_of(rec(leads=STANDARD_LEADS[::-1])) == "wrong_lead_order"


def test_non_finite() -> None:
    for bad in (np.nan, np.inf, -np.inf):
        signal = ecg_like()
        signal[4, 100] = bad
        assert reason_of(rec(signal)) == "non_finite"


def test_one_flat_lead_is_valid_every_flat_lead_is_not() -> None:
    # A flat lead is the quality check's business (left out, the rest read), not a refusal.
    signal = ecg_like()
    signal[9] = 0.3
    validate_recording(rec(signal))
    assert reason_of(rec(np.zeros((12, 5000), np.float32))) == "flat_signal"


def test_saturated_signal_only_when_every_lead_is() -> None:
    signal = ecg_like()
    signal[1] = np.clip(signal[1], None, 0.2)  # the rail cuts every QRS
    signal[1, 1000:1400] = 0.2
    validate_recording(rec(signal))
    everywhere = np.clip(ecg_like(), None, 0.2)
    everywhere[:, 1000:1400] = 0.2
    assert reason_of(rec(everywhere)) == "saturated_signal"


@pytest.mark.parametrize(("seconds", "fs"), [(4.9, 500), (121, 500), (2, 2000)])
def test_duration_out_of_range(seconds: float, fs: float) -> None:
    assert reason_of(rec(ecg_like(seconds, fs), fs=fs)) == "duration_out_of_range"


@pytest.mark.parametrize("fs", [50, 99.9, 2001, 8000, float("nan")])
def test_sampling_rate_out_of_range(fs: float) -> None:
    assert reason_of(rec(ecg_like(10, 500), fs=fs)) == "sampling_rate_out_of_range"


@pytest.mark.parametrize("scale", [1000.0, 200.0, 1e-3])  # µV, ADC counts, volts
def test_implausible_amplitude(scale: float) -> None:
    assert reason_of(rec(ecg_like(scale=scale))) == "implausible_amplitude"


def test_oversize() -> None:
    recording = rec()
    assert reason_of(recording, max_bytes=1000) == "oversize"
    assert reason_of(recording, max_bytes=10**6, encoded_size=10**6 + 1) == "oversize"
    validate_recording(recording, max_bytes=estimated_encoded_size(recording))


def test_real_sph_layout_records_pass() -> None:
    import h5py

    records = sorted(Path(shared_data_dir("ptbxl-sph"), "records").glob("*.h5"))[:50]
    for path in records:
        with h5py.File(path) as handle:
            signal = handle["ecg"][()].astype(np.float32)
        validate_recording(rec(signal), max_bytes=DEFAULT_MAX_RECORDING_BYTES)
