"""The agreement report of two versions' conclusions (pure): kappa, 2x2 counts, criticals, verdicts."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from interpretation.agreement import AgreementTally, Conclusion, cohen_kappa, conclusion_of


def st(code: int, *, certainty: str = "definite", provenance: str = "model", modifies: int | None = None) -> dict:
    return {"code": code, "description": f"s{code}", "probability": 0.9, "provenance": provenance,
            "certainty": certainty, "modifies": modifies}  # fmt: skip


def conclusion(*codes: int, critical: tuple[str, ...] = (), verdict: str = "v", kind: str = "abnormal") -> Conclusion:
    return Conclusion(frozenset(codes), frozenset(critical), kind, verdict)


@pytest.mark.parametrize("seed", range(6))
def test_kappa_matches_scikit_learn_on_random_tables(seed: int) -> None:
    rng = np.random.default_rng(seed)
    stored = rng.random(200) < rng.uniform(0.05, 0.6)
    replay = np.where(rng.random(200) < 0.85, stored, ~stored)
    both = int(np.sum(stored & replay))
    only_stored, only_replay = int(np.sum(stored & ~replay)), int(np.sum(~stored & replay))
    neither = 200 - both - only_stored - only_replay
    assert cohen_kappa(both, only_stored, only_replay, neither) == pytest.approx(cohen_kappa_score(stored, replay))


def test_kappa_edge_cases() -> None:
    assert cohen_kappa(10, 0, 0, 0) == 1.0, "both call it everywhere: agreement, not 'undefined'"
    assert cohen_kappa(0, 0, 0, 10) == 1.0
    assert cohen_kappa(0, 4, 0, 6) == 0.0, "replay never calls it: no agreement beyond chance"
    assert cohen_kappa(0, 5, 5, 0) == -1.0


def test_the_tally_counts_each_change_and_keeps_a_bounded_number_of_examples() -> None:
    tally = AgreementTally(examples=2)
    tally.describe([{"code": 50, "description": "Atrial fibrillation"}])
    pairs = [
        ("a", conclusion(1, 50), conclusion(1, 50)),  # unchanged
        ("b", conclusion(50), conclusion(50, 88, critical=("complete_heart_block",), verdict="w")),
        ("c", conclusion(147), conclusion()),
        ("d", conclusion(147), conclusion(88)),
        ("e", conclusion(147), conclusion(88)),
    ]
    for recording_id, stored, replay in pairs:
        tally.add(recording_id, stored, replay)
    report = tally.report()

    assert report.n == 5 and report.records_with_statement_changes == 4
    assert [c.code for c in report.codes] == [1, 50, 88, 147]
    af, block, t_wave = report.code(50), report.code(88), report.code(147)
    assert af is not None and block is not None and t_wave is not None
    assert af.description == "Atrial fibrillation"
    assert (af.n_stored, af.n_replay, af.both, af.kappa(5)) == (2, 2, 2, 1.0)
    assert (block.n_stored, block.n_replay, block.newly_called, block.no_longer_called) == (0, 3, 3, 0)
    assert block.newly_examples == ["b", "d"], "two examples at most"
    assert (t_wave.n_stored, t_wave.n_replay, t_wave.no_longer_called) == (3, 0, 3)
    assert t_wave.kappa(5) == pytest.approx(cohen_kappa_score([0, 0, 1, 1, 1], [0, 0, 0, 0, 0]))
    assert report.critical_changed == 1 and report.critical_raised == {"complete_heart_block": 1}
    assert report.critical_examples == ({"recording_id": "b", "stored": [], "replay": ["complete_heart_block"]},)
    assert report.verdict_changed == 1 and report.verdict_transitions == {}
    assert not report.identical

    tally.add("f", conclusion(1), conclusion(1))
    assert report.n == 5 and report.code(1).both == 1, "a report is a snapshot"  # type: ignore[union-attr]


def test_identical_conclusions_are_reported_identical() -> None:
    tally = AgreementTally()
    for i in range(4):
        tally.add(str(i), conclusion(22, 147), conclusion(22, 147))
    report = tally.report()
    assert report.identical and all(c.kappa(report.n) == 1.0 for c in report.codes)
    assert report.as_json()["statements"][0] == {
        "code": 22, "description": "", "n_stored": 4, "n_replay": 4, "both": 4, "kappa": 1.0, "newly_called": 0,
        "no_longer_called": 0, "newly_called_examples": [], "no_longer_called_examples": [],
    }  # fmt: skip


def test_conclusion_uses_the_clinical_functions_and_sees_certainty_changes() -> None:
    definite = conclusion_of([st(88)], measurements={"heart_rate_bpm": 38.0, "rate_confirmed": True})
    assert definite.codes == {88}
    assert definite.critical == {"complete_heart_block", "severe_bradycardia"}
    assert definite.verdict_kind == "abnormal" and "AV block" not in definite.verdict  # description is "s88"
    weak = conclusion_of([st(88, certainty="possible")], measurements=None)
    assert weak.critical == frozenset() and weak.possible == {88}
    assert weak.verdict.startswith("Borderline ECG") and weak.verdict_kind == "borderline"
    unreadable = conclusion_of([], readable=False, unreadable_reasons=["leads_off"])
    assert unreadable.verdict_kind == "unreadable" and not unreadable.readable

    tally = AgreementTally()
    tally.add("r", definite, weak)
    report = tally.report()
    assert report.records_with_statement_changes == 0, "the same code is called"
    assert report.certainty_changed == 1 and report.critical_cleared == {"complete_heart_block": 1,
                                                                           "severe_bradycardia": 1}  # fmt: skip
    tally.add("u", definite, unreadable)
    assert tally.report().readability_changed == 1
    assert tally.report().verdict_transitions == {"abnormal -> borderline": 1, "abnormal -> unreadable": 1}
