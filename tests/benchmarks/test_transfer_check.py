"""benchmarks.transfer_check: model-decided rows only, FP rate over labelled negatives, before -> after."""

from __future__ import annotations

from typing import Any

from benchmarks.transfer_check import false_positive_rate, model_rows, transfer_lines


def _row(code: int, tp: int, fp: int, fn: int, negatives: int) -> dict[str, Any]:
    labelled = tp + fn
    return {"code": code, "name": f"code {code}", "labelled": labelled, "negatives": negatives, "tp": tp,
            "fp": fp, "fn": fn, "sensitivity": tp / labelled if labelled else None,
            "ppv": tp / (tp + fp) if tp + fp else None}  # fmt: skip


def _report(version: str, fp_145: int, fp_mi: int) -> dict[str, Any]:
    rows = [_row(22, 3, 0, 0, 7), _row(145, 1, fp_145, 1, 8), _row(147, 0, 0, 0, 10)]
    groups = [_row(0, 2, fp_mi, 0, 8) | {"code": "MI", "name": "any MI"}]
    summary = {"macro_sensitivity": 0.5, "macro_ppv": 0.6}
    one = {
        "title": "set A",
        "rows": rows,
        "groups": groups,
        "summary": summary,
        "critical": {"false_alarms": []},
    }
    return {"model_version": version, "code": "abc", "sets": {"a": one}}


def test_rule_decided_statements_are_left_out_and_groups_kept() -> None:
    rows = model_rows(_report("m1", 1, 1)["sets"]["a"])
    assert "22" not in rows  # sinus bradycardia: fusion mode "rule"
    assert {"145", "MI"} <= set(rows)


def test_false_positive_rate_is_over_labelled_negatives() -> None:
    assert false_positive_rate(_row(145, 1, 2, 0, 8)) == 0.25
    assert false_positive_rate(_row(145, 1, 2, 0, 0)) is None


def test_lines_show_before_and_after_counts_of_the_watched_statements() -> None:
    text = "\n".join(transfer_lines(_report("old", 2, 3), _report("new", 0, 1)))
    assert "model old" in text and "model new" in text
    assert "145 2/8 -> 0/8" in text and "MI 3/8 -> 1/8" in text
    assert "147 0/10 -> 0/10" in text
