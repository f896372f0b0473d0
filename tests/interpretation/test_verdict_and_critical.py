"""The headline verdict and the critical findings over hand-built results (pure functions)."""

from __future__ import annotations

import pytest

from interpretation.critical import CRITICAL_RULES, critical_findings
from interpretation.verdict import SEVERITY_ORDER, headline_verdict, severity_rank


def st(
    code: int,
    name: str = "",
    modifies: int | None = None,
    *,
    provenance: str = "model",
    certainty: str = "definite",
    probability: float = 0.9,
) -> dict[str, object]:
    return {"code": code, "description": name or f"s{code}", "probability": probability, "modifies": modifies,
            "provenance": provenance, "certainty": certainty}  # fmt: skip


def measured(code: int, modifies: int | None = None) -> dict[str, object]:
    return st(code, modifies=modifies, provenance="measurement")


def test_normal_ecg_alone_is_normal():
    verdict = headline_verdict([st(1, "Normal ECG")], quality={"verdict": "good"})
    assert (verdict.kind, verdict.text) == ("normal", "Normal ECG")


def test_abnormal_counts_statements_not_modifiers_and_names_the_most_severe():
    statements = [st(1), st(21, "Sinus tachycardia"), st(50, "Atrial fibrillation"), st(346, modifies=50), st(106, "RBBB")]
    verdict = headline_verdict(statements)
    assert verdict.kind == "abnormal"
    assert verdict.abnormal_count == 3  # 21, 50, 106: not "Normal ECG", not the modifier
    assert verdict.most_important == 50
    assert verdict.text == "Abnormal ECG: 3 statements, most important: Atrial fibrillation"


def test_single_abnormal_statement_is_singular():
    assert headline_verdict([st(22, "Sinus bradycardia")]).text == (
        "Abnormal ECG: 1 statement, most important: Sinus bradycardia"
    )


def test_unreadable_wins_and_gives_the_reason():
    verdict = headline_verdict([], readable=False, unreadable_reasons=["lead_off"])
    assert (verdict.kind, verdict.text) == ("unreadable", "Unreadable: lead off")
    by_quality = headline_verdict([st(1)], quality={"verdict": "unreadable", "problems": ["flat_line"]})
    assert by_quality.text == "Unreadable: flat line"


def test_no_statement_is_not_called_normal():
    assert headline_verdict([]).kind == "no_statement"


def test_severity_order_is_a_ranking_without_duplicates():
    assert len(set(SEVERITY_ORDER)) == len(SEVERITY_ORDER)
    assert severity_rank(160) < severity_rank(50) < severity_rank(106) < severity_rank(23) < severity_rank(999)


def findings(statements, measurements=None):
    return [f.finding for f in critical_findings(statements, measurements)]


def test_af_needs_the_rapid_response_modifier_and_the_measured_rhythm():
    assert findings([measured(50)]) == []
    assert findings([measured(50), measured(346, modifies=50)]) == ["af_rapid_ventricular_response"]
    assert findings([measured(51), measured(346, modifies=51)]) == []
    # The model alone (no measured irregular rhythm without P waves) never raises it.
    assert findings([st(50), st(346)]) == []
    assert findings([st(50, provenance="both"), measured(346, modifies=50)]) == ["af_rapid_ventricular_response"]


def test_possible_statements_raise_nothing():
    weak = [st(88, certainty="possible", probability=0.3), st(161, certainty="possible", probability=0.4),
            st(330, modifies=161, certainty="possible")]  # fmt: skip
    assert findings(weak) == []


def test_rate_alarms_need_both_lead_groups_to_agree():
    assert findings([], {"heart_rate_bpm": 33.0, "rate_confirmed": False}) == []
    assert findings([], {"heart_rate_bpm": 33.0, "rate_confirmed": True}) == ["severe_bradycardia"]
    assert findings([], {"heart_rate_bpm": 160.0, "rate_confirmed": False}) == []


def test_long_qtc_needs_the_qt_statement_and_a_narrow_qrs():
    long = {"qtc_fridericia_ms": 520.0}
    assert findings([], long) == []  # no prolonged-QT statement beside it: no alarm
    assert findings([measured(148)], long) == ["long_qtc"]
    assert findings([measured(148)], {**long, "qrs_ms": 196.0}) == []  # LBBB: the QT carries the QRS


@pytest.mark.parametrize(
    ("measurements", "expected"),
    [
        ({"heart_rate_bpm": 39.0}, ["severe_bradycardia"]),
        ({"heart_rate_bpm": 40.0}, []),
        ({"heart_rate_bpm": 150.0}, []),
        ({"heart_rate_bpm": 151.0}, ["severe_tachycardia"]),
        ({"qtc_fridericia_ms": 510.0, "qtc_bazett_ms": 540.0}, ["long_qtc"]),
        ({"qtc_fridericia_ms": 480.0, "qtc_bazett_ms": 540.0}, []),  # Bazett over-corrects: Fridericia rules
        ({"qtc_bazett_ms": 505.0}, ["long_qtc"]),
        ({"qtc_bazett_ms": 505.0, "qrs_ms": 130.0}, []),
        ({"heart_rate_bpm": None, "qtc_bazett_ms": float("nan")}, []),
        (None, []),
    ],
)
def test_measurement_thresholds(measurements, expected):
    assert findings([measured(148)], measurements) == expected


def test_statement_findings_carry_their_rule_and_evidence():
    statements = [st(88), measured(146), measured(363, modifies=146), st(161), st(330, modifies=161)]
    result = critical_findings(statements, {"heart_rate_bpm": 35.0})
    assert [f.finding for f in result] == [
        "severe_bradycardia", "complete_heart_block", "st_elevation", "acute_myocardial_infarction",
    ]  # fmt: skip
    assert result[0].evidence == "heart rate 35 bpm"
    assert result[2].evidence == "statements 146 + 363"
    assert all(f.rule == CRITICAL_RULES[f.finding] for f in result)


def test_old_mi_and_st_depression_are_not_critical():
    assert findings([st(161), st(332, modifies=161), st(145), st(362, modifies=145)]) == []


def test_weak_model_statements_never_make_the_headline():
    # CinC-like: a correct, measured RBBB beside a weak model "inferior MI".
    statements = [st(161, "Inferior MI", certainty="possible", probability=0.3), measured(106)]
    statements[1]["description"] = "Right bundle-branch block"
    verdict = headline_verdict(statements)
    assert verdict.most_important == 106
    assert verdict.text == "Abnormal ECG: 1 statement, most important: Right bundle-branch block (and 1 possible)"


def test_only_possible_statements_are_borderline_naming_the_most_probable():
    statements = [st(161, "Inferior MI", certainty="possible", probability=0.2),
                  st(105, "Incomplete RBBB", certainty="possible", probability=0.4)]  # fmt: skip
    verdict = headline_verdict(statements)
    assert verdict.kind == "abnormal" and verdict.abnormal_count == 0
    assert verdict.text == "Borderline ECG: consider Incomplete RBBB (2 possible statements)"


def test_a_possible_normal_is_not_a_normal_ecg():
    assert headline_verdict([st(1, certainty="possible", probability=0.3)]).kind == "no_statement"
