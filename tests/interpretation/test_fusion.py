"""Fusion of model probabilities with rule statements: every mode of the table, provenance,
modifiers, the unreadable case, and that the default table matches docs/fusion.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import interpretation
from interpretation import DEFAULT_TABLE, FUSION_MODES, FusedStatement, fuse
from measurements.rules import RULE_CODES
from measurements.types import LeadQuality, QualityReport, RuleStatement

LEADS = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
GOOD = QualityReport("good", tuple(LeadQuality(n, "good") for n in LEADS))
THRESHOLDS = {21: 0.5, 104: 0.4, 106: 0.4, 30: 0.3, 310: 0.5, 1: 0.5}


def by_code(result: tuple[FusedStatement, ...]) -> dict[int, FusedStatement]:
    return {s.code: s for s in result}


def test_public_api() -> None:
    assert sorted(interpretation.__all__) == sorted(
        ["DEFAULT_TABLE", "FUSION_MODES", "FusedStatement", "FusionMode", "FusionTable", "Provenance", "fuse"]
    )


@pytest.mark.parametrize(
    ("mode", "model_p", "rule", "expected"),
    [
        ("model", 0.9, False, "model"), ("model", 0.1, True, None), ("model", 0.9, True, "both"),
        ("rule", 0.9, False, None), ("rule", 0.1, True, "measurement"), ("rule", 0.9, True, "both"),
        ("both", 0.9, False, None), ("both", 0.1, True, None), ("both", 0.9, True, "both"),
        ("either", 0.9, False, "model"), ("either", 0.1, True, "measurement"), ("either", 0.1, False, None),
    ],
)  # fmt: skip
def test_modes(mode: str, model_p: float, rule: bool, expected: str | None) -> None:
    rules = [RuleStatement(21, "HR 120 bpm > 100")] if rule else []
    result = by_code(fuse({21: model_p}, THRESHOLDS, rules, GOOD, {21: mode}))  # type: ignore[dict-item]
    if expected is None:
        assert 21 not in result
    else:
        assert result[21].provenance == expected
        assert result[21].probability == pytest.approx(model_p)
        assert result[21].description == "Sinus tachycardia"
        assert ("HR 120" in result[21].evidence) is rule


def test_gate_needs_the_measured_requirement() -> None:
    table = {104: "gate", 106: "gate"}
    probs = {104: 0.2, 106: 0.8}
    wide = [
        RuleStatement(104, "QRS 130 ms >= 120", requirement=True),
        RuleStatement(106, "QRS 130 ms >= 120", requirement=True),
    ]
    result = by_code(fuse(probs, THRESHOLDS, wide, GOOD, table))  # type: ignore[arg-type]
    assert set(result) == {106}  # 104: the model says no
    assert result[106].provenance == "both"
    assert "QRS 130" in result[106].evidence
    assert fuse(probs, THRESHOLDS, [], GOOD, table) == ()  # type: ignore[arg-type]
    # A requirement is never a statement by itself, whatever the mode.
    assert fuse({}, THRESHOLDS, wide, GOOD, {104: "rule", 106: "either"}) == ()  # type: ignore[arg-type]
    # A rule that decides the statement itself (LBBB from the QRS shape) asserts it where the model
    # says no: LBBB in AF missed by the model.
    shape = [*wide, RuleStatement(104, "QRS 160 ms, rS in V1, R-dominated I and V6")]
    result = by_code(fuse(probs, THRESHOLDS, shape, GOOD, table))  # type: ignore[arg-type]
    assert set(result) == {104, 106} and result[104].provenance == "measurement"


def test_rule_only_code_without_model_label() -> None:
    result = fuse({}, {}, [RuleStatement(121, "QRS axis -50 deg < -30")], GOOD, {121: "rule"})
    assert len(result) == 1
    assert result[0].probability is None
    assert result[0].description == "Left-axis deviation"
    assert "no such label" in result[0].evidence


def test_modifiers_follow_their_statement() -> None:
    rules = [RuleStatement(30, "2 supraventricular premature beats"), RuleStatement(310, "2 in 10 s", 30)]
    table = {30: "both", 310: "rule"}
    kept = fuse({30: 0.9}, THRESHOLDS, rules, GOOD, table)  # type: ignore[arg-type]
    assert [(s.code, s.modifies) for s in kept] == [(30, None), (310, 30)]
    dropped = fuse({30: 0.1}, THRESHOLDS, rules, GOOD, table)  # type: ignore[arg-type]
    assert dropped == ()


def test_model_modifier_without_rule_is_model_decided() -> None:
    result = fuse({310: 0.7, 21: 0.9}, THRESHOLDS, [], GOOD, {310: "model", 21: "model"})
    assert [(s.code, s.modifies, s.provenance) for s in result] == [(21, None, "model"), (310, None, "model")]
    assert fuse({310: 0.7}, THRESHOLDS, [], GOOD, {310: "rule"}) == ()


def test_normal_only_stands_alone() -> None:
    alone = fuse({1: 0.9, 21: 0.1}, THRESHOLDS, [], GOOD, {21: "rule"})
    assert [s.code for s in alone] == [1]
    with_rule = fuse({1: 0.9, 21: 0.1}, THRESHOLDS, [RuleStatement(21, "HR 110 bpm > 100")], GOOD, {21: "rule"})
    assert [s.code for s in with_rule] == [21]


def test_unreadable_recording_has_no_statements() -> None:
    q = QualityReport("unreadable", GOOD.leads, ("no_qrs",))
    assert fuse({21: 0.99, 1: 0.99}, THRESHOLDS, [RuleStatement(21, "x")], q) == ()


def test_custom_descriptions_and_order() -> None:
    result = fuse({106: 0.9, 104: 0.8}, THRESHOLDS, [], GOOD, {}, descriptions={104: "L", 106: "R"})
    assert [(s.code, s.description) for s in result] == [(104, "L"), (106, "R")]


def test_default_table_covers_every_rule_code_and_matches_the_document() -> None:
    assert set(RULE_CODES) <= set(DEFAULT_TABLE)
    assert set(DEFAULT_TABLE.values()) <= set(FUSION_MODES)
    gates = {code for code, role in RULE_CODES.items() if role == "gate"}
    assert all(DEFAULT_TABLE[c] in ("gate", "model") for c in gates)  # a requirement cannot decide alone
    doc = (Path(__file__).resolve().parents[2] / "docs" / "fusion.md").read_text()
    rows = dict(re.findall(r"^\| (\d+) \|[^|]*\| `(\w+)` \|", doc, flags=re.MULTILINE))
    assert {int(k): v for k, v in rows.items()} == dict(DEFAULT_TABLE)


def test_real_record_end_to_end() -> None:
    """A real CinC record (sinus tachycardia, 123 bpm) through quality, measurement, rules and fusion;
    the same record with its limb electrodes swapped is unreadable and gets nothing."""
    from ingest.detect import read_recording
    from measurements.measure import measure
    from measurements.quality import assess_quality
    from measurements.rules import rule_statements
    from tests.conftest import shared_data_dir

    rec = read_recording(shared_data_dir("cinc2021") / "E07501.hea")
    x = rec.signal.astype("float64")
    q = assess_quality(x, rec.fs)
    m = measure(x, rec.fs)
    rules = rule_statements(m, q, sex=rec.sex, age=rec.age)
    assert 21 in {r.code for r in rules}
    fused = by_code(fuse({21: 0.2, 1: 0.1}, THRESHOLDS, rules, q))
    assert fused[21].provenance == "measurement"  # DEFAULT_TABLE: the rate rule decides 21
    assert "bpm" in fused[21].evidence

    swapped = x.copy()
    swapped[0], swapped[1], swapped[2], swapped[3], swapped[4] = -x[0], x[2], x[1], x[4], x[3]
    q_swapped = assess_quality(swapped, rec.fs)
    assert not q_swapped.readable
    assert rule_statements(measure(swapped, rec.fs), q_swapped, sex=rec.sex, age=rec.age) == ()
    assert fuse({21: 0.9}, THRESHOLDS, rules, q_swapped) == ()
