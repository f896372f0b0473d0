"""``interpretation.summary``: the stored verdict and critical findings read back as computed; rows
without them (NULL, stored before revision 0009) computed exactly as the worker computes them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from interpretation.summary import clinical_summary, stored_summary, stored_verdict

BLOCK_AT_36 = (
    [{"code": 88, "description": "AV block, complete (third-degree)", "probability": 0.8, "provenance": "model"},
     {"code": 21, "description": "Sinus tachycardia", "probability": 0.2, "certainty": "possible"}],
    {"heart_rate_bpm": 36.0, "qrs_ms": 100.0, "rate_confirmed": True},
)  # fmt: skip


@dataclass(frozen=True)
class Row:
    """A stored diagnosis as the readers see it (the fields ``StoredResult`` names)."""

    statements: list[dict[str, Any]]
    measurements: dict[str, Any] | None
    readable: bool = True
    unreadable_reasons: list[str] | None = None
    quality: dict[str, Any] | None = None
    verdict: dict[str, Any] | None = None
    critical_findings: list[dict[str, str]] | None = field(default=None)


CASES = {
    "abnormal with criticals": Row(*BLOCK_AT_36),
    "normal": Row([{"code": 1, "description": "Normal ECG", "probability": 0.9}], {"heart_rate_bpm": 70.0}),
    "unreadable": Row([], None, False, ["lead_off"], {"verdict": "unreadable", "leads": [], "problems": []}),
    "no statement": Row([], {"heart_rate_bpm": 70.0}),
}


@pytest.mark.parametrize("row", CASES.values(), ids=CASES.keys())
def test_stored_summary_reads_back_what_was_computed_and_computes_it_for_null_rows(row: Row) -> None:
    computed = clinical_summary(row.statements, row.measurements, readable=row.readable,
                                unreadable_reasons=row.unreadable_reasons or (), quality=row.quality)  # fmt: skip
    assert stored_summary(row) == computed, "NULL: computed as the worker computes it"
    kept = computed.as_json()
    stored = Row(
        **{**row.__dict__, "verdict": kept["verdict"], "critical_findings": kept["critical_findings"]}
    )
    assert stored_summary(stored) == computed and stored_summary(stored).as_json() == kept
    assert (
        stored_verdict(stored.verdict, [], readable=True, unreadable_reasons=None, quality=None)
        == computed.verdict
    )


def test_the_stored_summary_wins_over_the_statements() -> None:
    """Readers take what the worker stored (the event carried the same), never a second opinion."""
    stored = {"kind": "normal", "text": "Normal ECG", "abnormal_count": 0, "most_important_code": None}
    row = Row(*BLOCK_AT_36, verdict=stored, critical_findings=[])
    summary = stored_summary(row)
    assert summary.verdict.text == "Normal ECG" and summary.critical_findings == ()
    assert [f.finding for f in stored_summary(Row(*BLOCK_AT_36)).critical_findings] == [
        "severe_bradycardia", "complete_heart_block",
    ]  # fmt: skip
