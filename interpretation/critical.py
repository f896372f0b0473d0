"""Critical findings: the results a clinician must see first, each with the rule that raised it.

A pure function over a stored diagnosis (its fused statements and measurements); no IO. The list
(``CRITICAL_RULES``; statement codes from ptbxl-sph's code.csv):

==============================  ==================================================================
finding                         rule
==============================  ==================================================================
af_rapid_ventricular_response   statement 50 (atrial fibrillation) with modifier 346 (rapid
                                ventricular response)
severe_bradycardia              measured heart rate < 40 bpm
severe_tachycardia              measured heart rate > 150 bpm
long_qtc                        QTc > 500 ms (Fridericia; Bazett only when Fridericia is missing:
                                Bazett over-corrects at high rates and would flag every tachycardia)
complete_heart_block            statement 88 (AV block, complete / third-degree)
st_elevation                    statement 145 or 146 (ST deviation) with modifier 363 (elevation)
                                from the measurement rule (``measurements.st_elevation``: J-point
                                elevation in >= 2 contiguous readable leads, 4th universal
                                definition of MI); a model-only elevation does not raise it
acute_myocardial_infarction     statement 160, 161, 165 or 166 (MI) with modifier 330 (acute)
==============================  ==================================================================

A modifier counts for a statement when it names it (``modifies``) or names nothing (the SPH label
set gives modifiers without a target). Where a statement gives its ``provenance`` (``measurement``,
``model``, ``both``), st_elevation's modifier must not be the model's alone. An unreadable
recording has no statements and no measurements, hence no findings: its headline is the
unreadable verdict instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["CRITICAL_RULES", "CriticalFinding", "critical_findings"]

HR_LOW_BPM = 40.0
HR_HIGH_BPM = 150.0
QTC_LIMIT_MS = 500.0
AF, RVR, COMPLETE_BLOCK = 50, 346, 88
ST_DEVIATION, ELEVATION = (145, 146), 363
MI, ACUTE = (160, 161, 165, 166), 330

CRITICAL_RULES: dict[str, str] = {
    "af_rapid_ventricular_response": "statement 50 (atrial fibrillation) with modifier 346 (rapid ventricular response)",
    "severe_bradycardia": f"heart rate < {HR_LOW_BPM:.0f} bpm",
    "severe_tachycardia": f"heart rate > {HR_HIGH_BPM:.0f} bpm",
    "long_qtc": f"QTc > {QTC_LIMIT_MS:.0f} ms (Fridericia, else Bazett)",
    "complete_heart_block": "statement 88 (AV block, complete / third-degree)",
    "st_elevation": "statement 145/146 (ST deviation) with modifier 363 (elevation) measured at the J point",
    "acute_myocardial_infarction": "statement 160/161/165/166 (MI) with modifier 330 (acute)",
}
_TITLES = {
    "af_rapid_ventricular_response": "Atrial fibrillation with rapid ventricular response",
    "severe_bradycardia": "Severe bradycardia",
    "severe_tachycardia": "Severe tachycardia",
    "long_qtc": "Markedly prolonged QTc",
    "complete_heart_block": "Complete heart block",
    "st_elevation": "ST elevation",
    "acute_myocardial_infarction": "Acute myocardial infarction",
}


@dataclass(frozen=True)
class CriticalFinding:
    """``finding`` is the stable id (metric label); ``evidence`` the value or statement that met the rule."""

    finding: str
    title: str
    rule: str
    evidence: str

    def as_json(self) -> dict[str, str]:
        return {"finding": self.finding, "title": self.title, "rule": self.rule, "evidence": self.evidence}


def _finding(finding: str, evidence: str) -> CriticalFinding:
    return CriticalFinding(finding, _TITLES[finding], CRITICAL_RULES[finding], evidence)


def _number(measurements: Mapping[str, Any] | None, name: str) -> float | None:
    value = (measurements or {}).get(name)
    return float(value) if isinstance(value, int | float) and value == value else None  # NaN -> None


def _qualified(statements: Sequence[Mapping[str, Any]], targets: Sequence[int], modifier: int) -> int | None:
    """The first target statement present together with ``modifier`` aimed at it (or at nothing)."""
    present = {int(s["code"]) for s in statements}
    aims = [s.get("modifies") for s in statements if int(s["code"]) == modifier]
    for target in targets:
        if target in present and any(aim is None or int(aim) == target for aim in aims):
            return target
    return None


def _measured_elevation(statements: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The statements less any elevation modifier that only the model asserted: ST elevation is
    critical only when the J-point rule measured it on readable leads."""
    return [s for s in statements if not (int(s["code"]) == ELEVATION and s.get("provenance") == "model")]


def critical_findings(
    statements: Sequence[Mapping[str, Any]], measurements: Mapping[str, Any] | None
) -> list[CriticalFinding]:
    """The critical findings of one diagnosis, in ``CRITICAL_RULES`` order."""
    codes = {int(s["code"]) for s in statements}
    found: list[CriticalFinding] = []
    if _qualified(statements, (AF,), RVR) is not None:
        found.append(_finding("af_rapid_ventricular_response", "statements 50 + 346"))
    rate = _number(measurements, "heart_rate_bpm")
    if rate is not None and rate < HR_LOW_BPM:
        found.append(_finding("severe_bradycardia", f"heart rate {rate:.0f} bpm"))
    if rate is not None and rate > HR_HIGH_BPM:
        found.append(_finding("severe_tachycardia", f"heart rate {rate:.0f} bpm"))
    qtc_f, qtc_b = _number(measurements, "qtc_fridericia_ms"), _number(measurements, "qtc_bazett_ms")
    qtc, formula = (qtc_f, "Fridericia") if qtc_f is not None else (qtc_b, "Bazett")
    if qtc is not None and qtc > QTC_LIMIT_MS:
        found.append(_finding("long_qtc", f"QTc ({formula}) {qtc:.0f} ms"))
    if COMPLETE_BLOCK in codes:
        found.append(_finding("complete_heart_block", "statement 88"))
    st = _qualified(_measured_elevation(statements), ST_DEVIATION, ELEVATION)
    if st is not None:
        found.append(_finding("st_elevation", f"statements {st} + {ELEVATION}"))
    mi = _qualified(statements, MI, ACUTE)
    if mi is not None:
        found.append(_finding("acute_myocardial_infarction", f"statements {mi} + {ACUTE}"))
    return found
