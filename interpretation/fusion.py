"""Fusion of the model's probabilities with the statements decided from measurements.

``fuse(model_probabilities, thresholds, rules, quality)`` applies the fusion table
(``interpretation.table``) statement by statement and returns the final statements, each with its
provenance: ``measurement`` (only the rules assert it), ``model`` (only the model) or ``both``.
An unreadable recording gets no statements at all.

"Normal ECG" (1) is kept only when no other statement remains, as in SPH's labels.

Modifiers (SPH codes >= 300, e.g. ``30+310``): a modifier from the rules names the statement it
modifies and survives only if that statement is in the fused result; a modifier from the model
alone (which does not say what it modifies) survives where its mode lets the model decide.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from interpretation.table import DEFAULT_TABLE, FusionTable, mode_of
from measurements.types import QualityReport, RuleStatement

__all__ = ["FIRST_MODIFIER_CODE", "NORMAL_CODE", "FusedStatement", "Provenance", "fuse", "sph_descriptions"]

logger = logging.getLogger(__name__)

Provenance = Literal["measurement", "model", "both"]
FIRST_MODIFIER_CODE = 300  # SPH numbers its 15 modifiers 308-367, its 44 statements below 300
NORMAL_CODE = 1  # "Normal ECG": SPH's grammar drops it when any other statement is present


@dataclass(frozen=True)
class FusedStatement:
    """One final AHA statement."""

    code: int
    description: str
    probability: float | None  # the model's, None where the model has no such label
    provenance: Provenance
    evidence: str
    modifies: int | None = None  # for a modifier from the rules: the statement it belongs to


@lru_cache(maxsize=1)
def sph_descriptions() -> Mapping[int, str]:
    """Code -> description of SPH's code.csv (44 statements + 15 modifiers)."""
    from schemas.aha_codes import SPH_CODES

    return {code: description for _, code, description in SPH_CODES}


def _decide(mode: str, model_yes: bool, rule_yes: bool, requirement_met: bool) -> bool:
    if mode == "rule":
        return rule_yes
    if mode == "both":
        return model_yes and rule_yes
    if mode == "gate":
        # The model where the measured requirement holds, or a rule that decides the statement
        # itself (e.g. LBBB from the QRS shape, measurements.rules_conduction).
        return (model_yes and requirement_met) or rule_yes
    if mode == "either":
        return model_yes or rule_yes
    return model_yes


def _model_evidence(probability: float | None, threshold: float | None) -> str:
    if probability is None or threshold is None:
        return "model: no such label"
    relation = ">=" if probability >= threshold else "<"
    return f"model p={probability:.2f} {relation} threshold {threshold:.2f}"


def fuse(
    model_probabilities: Mapping[int, float],
    thresholds: Mapping[int, float],
    rules: Sequence[RuleStatement],
    quality: QualityReport,
    table: FusionTable = DEFAULT_TABLE,
    *,
    descriptions: Mapping[int, str] | None = None,
) -> tuple[FusedStatement, ...]:
    """The final statements of one recording, primary statements first, by code."""
    if not quality.readable:
        return ()
    names = descriptions if descriptions is not None else sph_descriptions()
    asserted: dict[tuple[int, int | None], list[str]] = {}
    requirements: dict[int, str] = {}
    for rule in rules:
        if rule.requirement:
            requirements[rule.code] = rule.evidence
        else:
            asserted.setdefault((rule.code, rule.modifies), []).append(rule.evidence)

    def statement(code: int, modifies: int | None) -> FusedStatement | None:
        probability = model_probabilities.get(code)
        threshold = thresholds.get(code)
        model_yes = probability is not None and threshold is not None and probability >= threshold
        rule_evidence = asserted.get((code, modifies), [])
        mode = mode_of(code, table)
        if not _decide(mode, model_yes, bool(rule_evidence), code in requirements):
            return None
        measured = rule_evidence + ([requirements[code]] if mode == "gate" else [])
        provenance: Provenance = (
            "both" if model_yes and measured else ("model" if model_yes else "measurement")
        )
        evidence = "; ".join([*measured, _model_evidence(probability, threshold)])
        return FusedStatement(
            code, names.get(code, f"AHA statement {code}"),
            None if probability is None else float(probability), provenance, evidence, modifies,
        )  # fmt: skip

    primary_codes = {c for c in model_probabilities if c < FIRST_MODIFIER_CODE}
    primary_codes |= {c for c, m in asserted if m is None and c < FIRST_MODIFIER_CODE}
    fused = [s for c in sorted(primary_codes) if (s := statement(c, None)) is not None]
    if any(s.code != NORMAL_CODE for s in fused):
        fused = [s for s in fused if s.code != NORMAL_CODE]  # SPH: "normal" only stands alone
    present = {s.code for s in fused}

    rule_modifiers = sorted({(c, m) for c, m in asserted if m is not None})
    for code, parent in rule_modifiers:
        if parent in present and (s := statement(code, parent)) is not None:
            fused.append(s)
    claimed = {code for code, _ in rule_modifiers}
    for code in sorted(c for c in model_probabilities if c >= FIRST_MODIFIER_CODE and c not in claimed):
        if (s := statement(code, None)) is not None:
            fused.append(s)
    logger.debug("fused", extra={"codes": [s.code for s in fused]})
    return tuple(fused)
