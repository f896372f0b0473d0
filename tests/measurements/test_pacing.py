"""Pacemaker-spike detection on the eight paced LUDB records, conducted LUDB and CinC records (also
with added noise) and synthetic spikes; a paced recording keeps its rate and beats but has no
PR/QRS/QT (reason ``paced``) and no rhythm/interval statements."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.validate_ludb import load_record
from measurements import measure
from measurements.pacing import is_paced
from measurements.rules import rule_statements
from measurements.types import LeadQuality, QualityReport
from tests.conftest import shared_data_dir
from tests.measurements.synthetic import FS, beat_train

LEADS = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
GOOD = QualityReport("good", tuple(LeadQuality(name, "good") for name in LEADS))
R_TIMES = [0.5 + 0.8 * k for k in range(12)]


# LUDB header diagnoses: 34 unipolar ventricular, 72 P-synchrony, 95 AF with ventricular pacing,
# 45 atrial + ventricular (small spikes; the beat detector locks onto the atrial stimulus, the
# ventricular one follows the "R peak" by ~175 ms), 90 bipolar ventricular with complete heart block
# (spikes < 0.1 mV, visible in a few leads, muscle noise of the same size in I and aVL).
@pytest.mark.parametrize("record", ["34", "72", "95", "45", "90"])
def test_paced_ludb_records_have_no_conduction_intervals(record: str) -> None:
    signal, fs = load_record(shared_data_dir("ludb") / record)
    m = measure(signal, fs)
    assert m.paced is True
    for name in ("pr_ms", "qrs_ms", "qt_ms", "qtc_bazett_ms", "qrs_axis_deg"):
        assert getattr(m, name) is None
        assert m.missing[name] == "paced"
    assert m.heart_rate_bpm is not None and m.beats.r_peaks.size >= 5
    codes = {s.code for s in rule_statements(m, GOOD, sex="F", age=70.0)}
    assert not codes & {21, 22, 23, 30, 50, 60, 80, 82, 104, 105, 106, 120, 121, 148}


# Sinus rhythm (1, 2), with atrial extrasystoles (7), the highest non-paced spike score on LUDB (17).
@pytest.mark.parametrize("record", ["1", "2", "7", "17"])
def test_conducted_ludb_records_are_not_paced(record: str) -> None:
    signal, fs = load_record(shared_data_dir("ludb") / record)
    m = measure(signal, fs)
    assert m.paced is False
    assert m.qrs_ms is not None


def test_synthetic_spike_before_every_qrs_is_pacing() -> None:
    clean = beat_train(R_TIMES, qrs_s=0.14)
    assert measure(clean, FS).paced is False
    paced = clean.copy()
    for r in R_TIMES:
        k = int(round((r - 0.07 - 0.004) * FS))  # 4 ms before QRS onset
        paced[:, k] += np.linspace(1.5, 2.5, 12)  # one sample, every lead
    m = measure(paced, FS)
    assert m.paced is True
    assert m.qrs_ms is None and m.missing["qrs_ms"] == "paced"


def test_spike_in_few_beats_or_few_leads_is_not_pacing() -> None:
    clean = beat_train(R_TIMES, qrs_s=0.14)
    few_beats, few_leads = clean.copy(), clean.copy()
    for j, r in enumerate(R_TIMES):
        k = int(round((r - 0.074) * FS))
        if j < 3:
            few_beats[:, k] += 2.0
        few_leads[:2, k] += 2.0
    assert measure(few_beats, FS).paced is False
    assert measure(few_leads, FS).paced is False


def test_pacing_not_judged_below_250_hz() -> None:
    x = beat_train(R_TIMES)
    assert is_paced(x, x, np.array([250, 650, 1050]), 200.0) is None


# LUDB 1-100 header diagnoses naming pacing ("... pacing", "P-synchrony").
LUDB_PACED = {8, 34, 45, 72, 74, 90, 93, 95}


def test_ludb_pacing_detection_has_no_false_positives() -> None:
    detected = set()
    for number in range(1, 101):
        signal, fs = load_record(shared_data_dir("ludb") / str(number))
        if measure(signal, fs).paced:
            detected.add(number)
    assert detected == LUDB_PACED, (detected - LUDB_PACED, LUDB_PACED - detected)


def test_cinc_records_are_not_paced() -> None:
    from ingest import read_recording

    for header in sorted(shared_data_dir("cinc2021").glob("*.hea")):
        rec = read_recording(header)
        assert measure(rec.signal, rec.fs).paced is False, header.name


def test_small_time_locked_spike_in_four_leads_is_pacing() -> None:
    """Bipolar pacing: a 0.1 mV one-sample spike 40 ms before every QRS, in four leads only."""
    paced = beat_train(R_TIMES, qrs_s=0.14)
    for r in R_TIMES:
        paced[[0, 1, 6, 7], int(round((r - 0.11) * FS))] += 0.1
    assert measure(paced, FS).paced is True


def test_spikes_not_locked_to_the_beats_are_not_pacing() -> None:
    """A large spike near every beat in every lead, but at a different position in each beat
    (artefacts): no consistent spike-to-QRS relation, not pacing."""
    clean = beat_train(R_TIMES, qrs_s=0.14)
    for j, r in enumerate(R_TIMES):
        clean[:, int(round((r - 0.35 + 0.055 * j) * FS))] += 1.0
    assert measure(clean, FS).paced is False


@pytest.mark.parametrize("noise", ["white", "bursts", "glitches"])
@pytest.mark.parametrize("record", ["17", "24", "39"])  # the highest non-paced spike ratios on LUDB
def test_sharp_noise_on_conducted_records_is_not_pacing(record: str, noise: str) -> None:
    signal, fs = load_record(shared_data_dir("ludb") / record)
    rng = np.random.default_rng(int(record))
    if noise == "white":  # 0.1 mV broadband noise in every lead
        signal = signal + 0.1 * rng.standard_normal(signal.shape)
    elif noise == "bursts":  # muscle-like bursts of 0.2 mV in four leads at a time
        for start in rng.integers(0, signal.shape[1] - 500, 6):
            leads = rng.choice(12, 4, replace=False)
            signal[leads, start : start + 400] += 0.2 * rng.standard_normal((4, 400))
    else:  # five one-sample glitches of up to 1 mV in every lead
        for k in rng.integers(0, signal.shape[1], 5):
            signal[:, k] += rng.uniform(0.2, 1.0) * rng.choice([-1.0, 1.0], 12)
    assert measure(signal, fs).paced is False
