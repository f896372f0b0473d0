"""The final statements of one recording: fusion, then the consistency table, then certainty.

One function for every path that turns measurements and model probabilities into what a reader
sees (the worker's ``BatchAnalyser``, ``ecgstream diagnose``, the validation report), so they cannot
drift apart. Pure: no IO.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from interpretation.certainty import Certainty, certainty_of
from interpretation.consistency import apply_constraints
from interpretation.fusion import FusedStatement, fuse
from measurements.types import Measurements, QualityReport, RuleStatement

__all__ = ["FinalStatement", "final_statements"]


@dataclass(frozen=True)
class FinalStatement:
    """A fused statement that survived the consistency table, with its certainty."""

    statement: FusedStatement
    certainty: Certainty


def final_statements(
    model_probabilities: Mapping[int, float],
    thresholds: Mapping[int, float],
    rules: Sequence[RuleStatement],
    quality: QualityReport,
    measurements: Measurements | None,
    *,
    sex: str | None,
) -> tuple[FinalStatement, ...]:
    """Fused statements (``interpretation.fuse``) less those contradicting ``measurements``
    (``interpretation.consistency``), each with its certainty (``interpretation.certainty``)."""
    fused = fuse(model_probabilities, thresholds, rules, quality)
    kept, _ = apply_constraints(fused, measurements, sex=sex)
    left_out = measurements is not None and bool(measurements.excluded_leads)
    return tuple(
        FinalStatement(s, certainty_of(s, leads_left_out=left_out, measured=measurements is not None)) for s in kept
    )
