"""Atrial flutter is told apart from atrial fibrillation by the regularity of the atrial waves."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.validate_ludb import load_record
from measurements import measure
from measurements.filters import diagnostic_band
from measurements.flutter import CYCLE_RANGE_MS, MIN_ORGANISATION, atrial_waves
from measurements.quality import assess_quality
from measurements.rules import rule_statements
from tests.conftest import shared_data_dir

FS = 500.0


def _beats(r_peaks: np.ndarray, n: int) -> np.ndarray:
    """Narrow QRS complexes (a 1.2 mV spike with a small S) at ``r_peaks``, all 12 leads."""
    t = np.arange(n)
    qrs = np.zeros(n)
    for r in r_peaks:
        qrs += 1.2 * np.exp(-0.5 * ((t - r) / 6.0) ** 2) - 0.3 * np.exp(-0.5 * ((t - r - 18) / 6.0) ** 2)
    gains = np.linspace(0.6, 1.2, 12)[:, None]
    return gains * qrs[None, :]


def _irregular_r_peaks(n: int, rng: np.random.Generator) -> np.ndarray:
    rr = rng.uniform(0.55, 1.15, size=40) * FS  # variable conduction: irregular ventricular response
    r = np.cumsum(rr).astype(int) + int(0.3 * FS)
    return r[r < n - int(0.5 * FS)]


def _sawtooth(n: int, cycle_s: float, amplitude_mv: float) -> np.ndarray:
    phase = (np.arange(n) / FS / cycle_s) % 1.0
    return amplitude_mv * (phase - 0.5) * np.where(phase < 0.8, 1.0, -4.0)


def _signal(atrial: np.ndarray, r_peaks: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = atrial.size
    leads = np.zeros((12, n))
    for lead in (1, 2, 5, 6):  # II, III, aVF, V1: where flutter waves show
        leads[lead] += atrial
    return _beats(r_peaks, n) + leads + 0.01 * rng.standard_normal((12, n))


def test_sawtooth_flutter_with_variable_conduction_is_flutter_not_fibrillation() -> None:
    rng = np.random.default_rng(1)
    n = int(10 * FS)
    r = _irregular_r_peaks(n, rng)
    x = _signal(_sawtooth(n, 0.22, 0.25), r, rng)
    waves = atrial_waves(diagnostic_band(x, FS), r, FS)
    assert waves is not None and waves.is_flutter
    assert abs(waves.cycle_ms - 220.0) <= 10.0  # within 5 %
    m = measure(x, FS)
    assert m.rhythm == "atrial_flutter"
    assert m.atrial_rate_bpm is not None and 260 <= m.atrial_rate_bpm <= 290
    codes = {s.code for s in rule_statements(m, assess_quality(x, FS), sex=None, age=60)}
    assert 51 in codes and 50 not in codes


def test_fibrillatory_waves_of_changing_cycle_are_not_flutter() -> None:
    rng = np.random.default_rng(2)
    n = int(10 * FS)
    r = _irregular_r_peaks(n, rng)
    # f waves: each cycle 120-220 ms long with its own amplitude (coarse fibrillation)
    f, t = np.zeros(n), 0
    while t < n:
        length = int(rng.uniform(0.12, 0.22) * FS)
        f[t : t + length] = rng.uniform(0.05, 0.2) * np.sin(np.pi * np.arange(min(length, n - t)) / length)
        t += length
    x = _signal(f - f.mean(), r, rng)
    waves = atrial_waves(diagnostic_band(x, FS), r, FS)
    assert waves is None or waves.organisation < MIN_ORGANISATION
    assert measure(x, FS).rhythm != "atrial_flutter"


def test_flutter_outside_the_flutter_range_is_not_reported() -> None:
    rng = np.random.default_rng(3)
    n = int(10 * FS)
    r = _irregular_r_peaks(n, rng)
    x = _signal(_sawtooth(n, 0.14, 0.25), r, rng)  # 430/min: fibrillation's range
    waves = atrial_waves(diagnostic_band(x, FS), r, FS)
    assert waves is None or not (
        CYCLE_RANGE_MS[0] <= waves.cycle_ms <= CYCLE_RANGE_MS[1] and waves.is_flutter
    )


@pytest.mark.parametrize(("record", "rhythm"), [("52", "atrial_flutter"), ("44", "atrial_fibrillation"),
                                                ("88", "atrial_fibrillation"), ("1", "sinus")])  # fmt: skip
def test_ludb_flutter_and_fibrillation_records(record: str, rhythm: str) -> None:
    """LUDB 52 (typical flutter, variable conduction) is flutter; fibrillation stays fibrillation."""
    signal, fs = load_record(shared_data_dir("ludb") / record)
    m = measure(signal, fs)
    assert m.rhythm == rhythm
    codes = {s.code for s in rule_statements(m, assess_quality(signal, fs), sex=None, age=60)}
    assert (51 in codes) == (rhythm == "atrial_flutter")
    assert (50 in codes) == (rhythm == "atrial_fibrillation")
