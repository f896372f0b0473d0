"""Critical findings: the results a clinician must see first, each with the rule that raised it.

A pure function over a stored diagnosis (its fused statements and measurements); no IO. The list
(``CRITICAL_RULES``; statement codes from ptbxl-sph's code.csv):

==============================  ==================================================================
finding                         rule
==============================  ==================================================================
af_rapid_ventricular_response   statement 50 (atrial fibrillation) decided by the measured rhythm
                                with modifier 346 (rapid ventricular response)
severe_bradycardia              measured heart rate < 40 bpm, confirmed by both lead groups
severe_tachycardia              measured heart rate > 150 bpm, confirmed by both lead groups
long_qtc                        QTc > 500 ms (Fridericia; Bazett only when Fridericia is missing:
                                Bazett over-corrects at high rates and would flag every tachycardia)
                                with the prolonged-QT statement 148, QRS < 120 ms (with a wide QRS
                                the QT carries the conduction delay: not an alarm)
complete_heart_block            statement 88 (AV block, complete / third-degree), definite
st_elevation                    statement 145 or 146 (ST deviation) with modifier 363 (elevation)
                                from the measurement rule (``measurements.st_elevation``: J-point
                                elevation in >= 2 contiguous readable leads, 4th universal
                                definition of MI); a model-only elevation does not raise it
acute_myocardial_infarction     statement 160, 161, 165 or 166 (MI) with modifier 330 (acute),
                                both definite
==============================  ===========================================================recording has no statements and no measurements, hence no findings: its headline is the
unreadable verdict instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["CRITICAL_RULES", "MEASUREMENT_KEYS", "CriticalFinding", "critical_findings"]

HR_LOW_BPM = 40.0
HR_HIGH_BPM = 150.0
QTC_LIMIT_MS = 500.0
LONG_QT, WIDE_QRS_MS = 148, 120.0
AF, RVR, COMPLETE_BLOCK = 50, 346, 88
ST_DEVIATION, ELEVATION = (145, 146), 363
MI, ACUTE = (160, 161, 165, 166), 330
# the measurements the rules read: a caller may fetch only these (the overread worklist does)
MEASUREMENT_KEYS = ("heart_rate_bpm", "rate_confirmed", "qtc_fridericia_ms", "qtc_bazett_ms", "qrs_ms")

CRITICAL_RULES: dict[str, str] = {
    "af_rapid_ventricular_response": "statement 50 (atrial fibrillation, measured rhythm) with modifier 346 (rapid ventricular response)",
    "severe_bradycardia": f"heart rate < {HR_LOW_BPM:.0f} bpm, confirmed by limb and precordial leads",
    "severe_tachycardia": f"heart rate > {HR_HIGH_BPM:.0f} bpm, confirmed by limb and precordial leads",
    "long_qtc": f"QTc > {QTC_LIMIT_MS:.0f} ms (Fridericia, else Bazett) with statement 148, QRS < 120 ms",
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

    @classmethod
    def from_json(cls, stored: Mapping[str, Any]) -> CriticalFinding:
        """The finding of ``as_json()`` (as stored with the diagnosis and carried in its event)."""
        return cls(str(stored["finding"]), str(stored["title"]), str(stored["rule"]), str(stored["evidence"]))


def _finding(finding: str, evidence: str) -> CriticalFinding:
    return CriticalFinding(finding, _TITLES[finding], CRITICAL_RULES[finding], evidence)


def _number(measurements: Mapping[str, Any] | None, name: str) -> float | None:
    value = (measurements or {}).get(name)
    return float(value) if isinstance(value, int | float) and value == value else None  # NaN -> None


def _definite(statement: Mapping[str, Any]) -> bool:
    return statement.get("certainty", "definite") != "possible"


def _measured(statement: Mapping[str, Any]) -> bool:
    """Decided or confirmed by measurements, or by a physician who read the tracing (an overread)."""
    return statement.get("provenance", "model") in ("measurement", "both", "physician")


def _qualified(
    statements: Sequence[Mapping[str, Any]], targets: Sequence[int], modifier: int, *, measured: bool = False
) -> int | None:
    """The first definite target statement present together with ``modifier`` aimed at it (or at
    nothing); with ``measured``, both decided (or confirmed) by measurements."""
    usable = [s for s in statements if _definite(s) and (_measured(s) or not measured)]
    present = {int(s["code"]) for s in usable}
    aims = [s.get("modifies") for s in usable if int(s["code"]) == modifier]
    for target in targets:
        if target in present and any(aim is None or int(aim) == target for aim in aims):
            return target
    return None


def critical_findings(
    statements: Sequence[Mapping[str, Any]], measurements: Mapping[str, Any] | None
) -> list[CriticalFinding]:
    """The critical findings of one diagnosis, in ``CRITICAL_RULES`` order."""
    codes = {int(s["code"]) for s in statements if _definite(s)}
    found: list[CriticalFinding] = []
    if _qualified(statements, (AF,), RVR, measured=True) is not None:
        found.append(_finding("af_rapid_ventricular_response", "statements 50 + 346 (measured rhythm)"))
    rate = _number(measurements, "heart_rate_bpm")
    rate_trusted = (measurements or {}).get("rate_confirmed") is not False
    if rate is not None and rate < HR_LOW_BPM and rate_trusted:
        found.append(_finding("severe_bradycardia", f"heart rate {rate:.0f} bpm"))
    if rate is not None and rate > HR_HIGH_BPM and rate_trusted:
        found.append(_finding("severe_tachycardia", f"heart rate {rate:.0f} bpm"))
    qtc_f, qtc_b = _number(measurements, "qtc_fridericia_ms"), _number(measurements, "qtc_bazett_ms")
    qtc, formula = (qtc_f, "Fridericia") if qtc_f is not None else (qtc_b, "Bazett")
    qrs = _number(measurements, "qrs_ms")
    if qtc is not None and qtc > QTC_LIMIT_MS and LONG_QT in codes and (qrs is None or qrs < WIDE_QRS_MS):
        found.append(_finding("long_qtc", f"QTc ({formula}) {qtc:.0f} ms with statement 148"))
    if COMPLETE_BLOCK in codes:
        found.append(_finding("complete_heart_block", "statement 88"))
    st = _qualified(statements, ST_DEVIATION, ELEVATION, measured=True)
    if st is not None:
        found.append(_finding("st_elevation", f"statements {st} + {ELEVATION}"))
    mi = _qualified(statements, MI, ACUTE)
    if mi is not None:
        found.append(_finding("acute_myocardial_infarction", f"statements {mi} + {ACUTE}"))
    return found
