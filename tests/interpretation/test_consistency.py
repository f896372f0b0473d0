"""The consistency table: no final statement contradicts the measurement it rests on (pure)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from interpretation.consistency import CONSTRAINTS, MODIFIER_PARENTS, PACED_EXCLUDED, apply_constraints
from interpretation.fusion import FusedStatement
from measurements.types import Beats, Measurements

FS = 500.0


def m(**values: object) -> Measurements:
    beats = Beats(np.arange(10, dtype=np.int64) * 400, ("N",) * 10, np.ones(10, dtype=bool), FS)
    defaults: dict[str, object] = {
        "heart_rate_bpm": 75.0, "rr_mean_ms": 800.0, "pr_ms": 160.0, "qrs_ms": 90.0, "qtc_fridericia_ms": 410.0,
        "qrs_axis_deg": 45.0, "rhythm": "sinus", "paced": False,
    }  # fmt: skip
    defaults.update(values)
    return Measurements(fs=FS, beats=beats, **defaults)  # type: ignore[arg-type]


def s(code: int, provenance: str = "model", modifies: int | None = None) -> FusedStatement:
    return FusedStatement(code, f"s{code}", 0.9, provenance, "", modifies)  # type: ignore[arg-type]


def kept(
    statements: list[FusedStatement], measurements: Measurements | None, sex: str | None = "M"
) -> set[int]:
    return {x.code for x in apply_constraints(statements, measurements, sex=sex)[0]}


# The contradictions reported on other hospitals' records (issue 16), each impossible now.
@pytest.mark.parametrize("qrs", [144.0, 156.0])
def test_incomplete_rbbb_never_beside_a_complete_width(qrs: float) -> None:
    assert kept([s(105)], m(qrs_ms=qrs)) == set()
    assert kept([s(105)], m(qrs_ms=112.0)) == {105}


@pytest.mark.parametrize("axis", [67.0, 17.0, -11.0])
def test_lafb_never_beside_a_normal_axis(axis: float) -> None:
    assert kept([s(101)], m(qrs_axis_deg=axis)) == set()
    assert kept([s(101)], m(qrs_axis_deg=-55.0)) == {101}


def test_normal_ecg_needs_p_waves_and_normal_measurements() -> None:
    assert kept([s(1)], m()) == {1}
    assert kept([s(1)], m(pr_ms=None, missing={"pr_ms": "no_p_waves"})) == set()
    assert kept([s(1)], m(rhythm="atrial_fibrillation")) == set()
    assert kept([s(1)], m(heart_rate_bpm=33.0)) == set()  # never "Normal ECG" beside a severe bradycardia
    assert kept([s(1)], m(qrs_ms=130.0)) == set()
    assert kept([s(1)], m(qtc_fridericia_ms=470.0)) == set()


def test_prolonged_qt_needs_the_qtc() -> None:
    assert kept([s(148)], m(qtc_fridericia_ms=420.0)) == set()
    assert kept([s(148)], m(qtc_fridericia_ms=470.0)) == {148}
    assert kept([s(148)], m(qtc_fridericia_ms=455.0), sex="F") == set()  # women's limit 460


def test_a_modifier_never_stands_alone() -> None:
    assert kept([s(367)], m()) == set()  # "Inversion" without its T-wave statement
    assert kept([s(147), s(367)], m()) == {147, 367}
    assert kept([s(30, "measurement"), s(310, "measurement", modifies=30)], m()) == {30, 310}
    assert kept([s(310, "measurement", modifies=30)], m()) == set()


def test_rate_statements_follow_the_rates_shown() -> None:
    assert kept([s(21)], m(heart_rate_bpm=95.0)) == set()
    assert kept([s(21)], m(heart_rate_bpm=112.0)) == {21}
    assert kept([s(22)], m(heart_rate_bpm=65.0, rr_mean_ms=923.0)) == set()
    assert kept([s(22)], m(heart_rate_bpm=65.0, atrial_rate_bpm=54.0)) == {22}  # sinus rate slow, ectopy


def test_af_never_beside_sinus_p_waves_and_paced_gets_no_conduction_statements() -> None:
    assert kept([s(50)], m(rhythm="sinus")) == set()
    assert kept([s(50)], m(rhythm="atrial_fibrillation")) == {50}


def test_fibrillation_and_flutter_follow_the_measured_atrial_waves() -> None:
    assert kept([s(50)], m(rhythm="atrial_flutter")) == set()
    assert kept([s(51)], m(rhythm="atrial_fibrillation")) == set()
    assert kept([s(51), s(346)], m(rhythm="atrial_flutter")) == {51, 346}
    assert kept([s(51)], m(rhythm="sinus")) == set()
    paced = m(rhythm="paced", paced=True)
    assert kept([s(c) for c in (21, 50, 82, 104, 106, 121, 161, 125)], paced) == {125}


def test_lvh_is_not_stated_beside_low_voltage() -> None:
    assert kept([s(125, "measurement"), s(142)], m()) == {125}


def test_nothing_is_checked_without_measurements() -> None:
    assert kept([s(1), s(105), s(101)], None) == {1, 105, 101}


CODES = sorted(
    {c for constraint in CONSTRAINTS for c in constraint.codes} | set(MODIFIER_PARENTS) | {142, 125, 147}
)
maybe = hs.one_of(hs.none(), hs.floats(-200, 600, allow_nan=False))


@settings(max_examples=300, deadline=None)
@given(
    codes=hs.lists(hs.sampled_from(CODES), unique=True, max_size=12),
    hr=maybe, pr=maybe, qrs=maybe, axis=maybe, qtc=maybe,
    rhythm=hs.sampled_from([None, "sinus", "atrial_fibrillation", "atrial_flutter", "paced", "undetermined"]),
)  # fmt: skip
def test_no_kept_statement_contradicts_its_measurements(codes, hr, pr, qrs, axis, qtc, rhythm) -> None:
    measurements = m(heart_rate_bpm=hr, pr_ms=pr, qrs_ms=qrs, qrs_axis_deg=axis, qtc_fridericia_ms=qtc,
                     rhythm=rhythm, paced=rhythm == "paced")  # fmt: skip
    result, removed = apply_constraints([s(c) for c in codes], measurements, sex="M")
    final = {x.code for x in result}
    assert final | {r.code for r in removed} == set(codes)
    by_code = {c: k for k in CONSTRAINTS for c in k.codes}
    for code in final:
        if code in by_code:
            assert by_code[code].check(measurements, "M") is None
        if measurements.paced:
            assert code not in PACED_EXCLUDED
        if code in MODIFIER_PARENTS:
            assert final & set(MODIFIER_PARENTS[code])
