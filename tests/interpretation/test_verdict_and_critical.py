"""The headline verdict and the critical findings over hand-built results (pure functions)."""

from __future__ import annotations

import pytest

from interpretation.critical import CRITICAL_RULES, critical_findings
from interpretation.verdict import SEVERITY_ORDER, headline_verdict, severity_rank


def st(code: int, name: str = "", modifies: int | None = None) -> dict[str, object]:
    return {"code": code, "description": name or f"s{code}", "probability": 0.9, "modifies": modifies}


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


def test_af_needs_the_rapid_response_modifier():
    assert findings([st(50)]) == []
    assert findings([st(50), st(346, modifies=50)]) == ["af_rapid_ventricular_response"]
    assert findings([st(50), st(346)]) == ["af_rapid_ventricular_response"]  # model modifier: no target
    assert findings([st(51), st(346, modifies=51)]) == []


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
        ({"heart_rate_bpm": None, "qtc_bazett_ms": float("nan")}, []),
        (None, []),
    ],
)
def test_measurement_thresholds(measurements, expected):
    assert findings([], measurements) == expected


def test_statement_findings_carry_their_rule_and_evidence():
    statements = [st(88), st(146), st(363, modifies=146), st(161), st(330, modifies=161)]
    result = critical_findings(statements, {"heart_rate_bpm": 35.0})
    assert [f.finding for f in result] == [
        "severe_bradycardia", "complete_heart_block", "st_elevation", "acute_myocardial_infarction",
    ]  # fmt: skip
    assert result[0].evidence == "heart rate 35 bpm"
    assert result[2].evidence == "statements 146 + 363"
    assert all(f.rule == CRITICAL_RULES[f.finding] for f in result)


def test_old_mi_and_st_depression_are_not_critical():
    assert findings([st(161), st(332, modifies=161), st(145), st(362, modifies=145)]) == []
