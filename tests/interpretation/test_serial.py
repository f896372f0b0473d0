"""Serial comparison (interpretation.serial): new / resolved statements and measurement changes."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from interpretation.serial import COMPARED_MEASUREMENTS, angle_change, compare_serial

BEFORE = [{"code": 1, "description": "Normal ECG"}, {"code": 21, "description": "Sinus bradycardia"}]
NOW = [
    {"code": 21, "description": "Sinus bradycardia"},
    {"code": 50, "description": "Atrial fibrillation"},
    {"code": 346, "description": "with rapid ventricular response"},
]


def test_new_resolved_and_persisting_statements_by_code() -> None:
    result = compare_serial(BEFORE, NOW, None, None)
    assert result.new_statements == [{"code": 50, "name": "Atrial fibrillation"},
                                     {"code": 346, "name": "with rapid ventricular response"}]  # fmt: skip
    assert result.resolved_statements == [{"code": 1, "name": "Normal ECG"}]
    assert result.persisting_statements == [{"code": 21, "name": "Sinus bradycardia"}]
    assert result.changed


def test_measurement_changes_are_current_minus_previous() -> None:
    before = {"heart_rate_bpm": 62.0, "pr_ms": 160.0, "qrs_ms": 90.0, "qtc_fridericia_ms": 410.0, "qrs_axis_deg": 30.0}
    now = {"heart_rate_bpm": 118.4, "pr_ms": 150.0, "qrs_ms": 128.0, "qtc_fridericia_ms": 425.0, "qrs_axis_deg": -60.0}
    changes = {c.key: c for c in compare_serial([], [], before, now).measurement_changes}
    assert [c.key for c in changes.values()] == [key for key, *_ in COMPARED_MEASUREMENTS]
    assert changes["heart_rate_bpm"].change == pytest.approx(56.4) and changes["heart_rate_bpm"].notable
    assert changes["pr_ms"].change == -10.0 and not changes["pr_ms"].notable
    assert changes["qrs_ms"].change == 38.0 and changes["qrs_ms"].notable
    assert changes["qtc_fridericia_ms"].change == 15.0 and not changes["qtc_fridericia_ms"].notable
    assert changes["qrs_axis_deg"].change == -90.0 and changes["qrs_axis_deg"].notable
    assert changes["t_axis_deg"].change is None and not changes["t_axis_deg"].notable  # missing on both


def test_a_missing_or_non_numeric_value_gives_no_change() -> None:
    changes = {c.key: c for c in compare_serial([], [], {"pr_ms": 160.0, "qrs_ms": "90"},
                                                {"pr_ms": None, "qrs_ms": 95.0}).measurement_changes}  # fmt: skip
    assert changes["pr_ms"].previous == 160.0 and changes["pr_ms"].current is None and changes["pr_ms"].change is None
    assert changes["qrs_ms"].previous is None and changes["qrs_ms"].change is None


def test_no_change_is_not_changed() -> None:
    same = {"heart_rate_bpm": 70.0, "qrs_axis_deg": 45.0}
    result = compare_serial(BEFORE, BEFORE, same, same)
    assert not result.new_statements and not result.resolved_statements and not result.changed
    assert result.as_json()["changed"] is False


def test_axis_change_goes_the_short_way_round() -> None:
    assert angle_change(170.0, -170.0) == 20.0
    assert angle_change(-170.0, 170.0) == -20.0
    assert angle_change(0.0, 180.0) == 180.0
    assert angle_change(90.0, -90.0) == 180.0


@given(st.floats(-180, 180), st.floats(-180, 180))
def test_axis_change_is_bounded_and_consistent(previous: float, current: float) -> None:
    change = angle_change(previous, current)
    assert -180.0 < change <= 180.0
    assert math.isclose(math.cos(math.radians(previous + change)), math.cos(math.radians(current)), abs_tol=1e-9)
