"""Paced, fibrillating and ectopic LUDB records never raise and report nulls with reasons."""

from __future__ import annotations

import pytest

from benchmarks.validate_ludb import load_record
from measurements import measure
from tests.conftest import shared_data_dir

# 8, 93, 95: atrial fibrillation with ventricular / biventricular pacing; 38, 83: AF with PVCs;
# 7, 22: atrial extrasystoles; 35, 52: atrial flutter; 44, 88, 96: atrial fibrillation (ludb header
# diagnoses). Known weakness: 83 (AF with polymorphic PVCs) still gets a PR (docs/measurements.md).
RECORDS = ["7", "8", "22", "35", "38", "52", "83", "93", "95"]


@pytest.mark.parametrize("record", RECORDS)
def test_difficult_records_measure_without_raising(record: str) -> None:
    signal, fs = load_record(shared_data_dir("ludb") / record)
    m = measure(signal, fs)
    assert m.beats.r_peaks.size >= 5
    assert m.heart_rate_bpm is not None and 30 < m.heart_rate_bpm < 200
    for name in ("pr_ms", "qrs_ms", "qt_ms"):
        assert (getattr(m, name) is None) == (name in m.missing), name


@pytest.mark.parametrize("record", ["8", "38", "44", "88", "96"])
def test_atrial_fibrillation_is_irregular_without_pr(record: str) -> None:
    signal, fs = load_record(shared_data_dir("ludb") / record)
    m = measure(signal, fs)
    assert m.pr_ms is None and m.missing["pr_ms"]
