"""AHA statements decided from measurements, with the published criterion of each in the code.

``rule_statements(m, q, sex=..., age=...)`` returns the statements whose criterion holds, each with
its evidence. Sources (AHA/ACCF/HRS recommendations for the standardization and interpretation of
the electrocardiogram):

- part II, Mason et al. 2007 (Circulation 115:1325): the statement list, rate and rhythm;
- part III, Surawicz et al. 2009 (Circulation 119:e235): axis, bundle-branch blocks;
- part IV, Rautaharju et al. 2009 (Circulation 119:e241): QT and QTc limits;
- part V, Hancock et al. 2009 (Circulation 119:e251): voltage criteria for hypertrophy
  (``measurements.lvh``);
- the 4th universal definition of MI, Thygesen et al. 2018: ST elevation (145 + 363,
  ``measurements.st_elevation``).

``RULE_CODES`` says, per code, what the rule is: ``decides`` (the criterion defines the statement),
``gate`` (a requirement: the statement needs it, but it is not enough; the RuleStatement then has
``requirement=True``) or ``support`` (evidence for a statement defined by more than measurements).
Which of them the final result uses is the fusion table's decision (``interpretation.fusion``).

No statements when the quality verdict is unreadable; limb-lead statements (axis, low voltage in
the limb leads) need readable limb leads; a paced recording (``m.paced``) gets no rhythm, interval,
axis or QRS-width statement; amplitude statements (125, 142, ST elevation 145 + 363) only when
the caller says the amplitudes are millivolts (``amplitudes_valid``). Adult criteria: under 18
years the rate, axis, QRS-width, voltage and ST-elevation rules stay silent.
"""

from __future__ import annotations

import logging
from typing import Literal

from measurements.lvh import lvh_voltage_criteria
from measurements.rules_conduction import lbbb_statements
from measurements.rules_rhythm import (
    af_statements,
    flutter_statements,
    is_atrial_tachyarrhythmia,
    premature_statements,
    sinus_statements,
)
from measurements.st_elevation import st_elevation_statements
from measurements.types import Measurements, QualityReport, RuleStatement

__all__ = ["RULE_CODES", "RuleRole", "rule_statements"]

logger = logging.getLogger(__name__)

RuleRole = Literal["decides", "gate", "support"]

RULE_CODES: dict[int, RuleRole] = {
    21: "decides", 22: "decides", 23: "decides",
    30: "decides", 60: "decides",
    308: "decides", 310: "decides", 340: "decides", 341: "decides", 342: "decides",
    50: "support", 346: "decides", 347: "decides",
    80: "decides", 82: "decides",
    104: "gate", 105: "gate", 106: "gate",
    120: "decides", 121: "decides",
    125: "decides",
    142: "support",
    145: "decides", 363: "decides",
    148: "decides",
}  # fmt: skip

ADULT_AGE = 18.0
# Part II (Mason 2007): short PR < 120 ms, prolonged PR (first-degree AV block) > 200 ms.
SHORT_PR_MS = 120.0
LONG_PR_MS = 200.0
# Part III (Surawicz 2009), adults: left-axis deviation -30 to -90 deg, right-axis deviation
# +90 to +180 deg; -90..-180 is an indeterminate ("northwest") axis, neither.
LEFT_AXIS_DEG = -30.0
RIGHT_AXIS_DEG = 90.0
# Part III: complete LBBB / RBBB need QRS >= 120 ms in adults; incomplete RBBB 110-119 ms.
COMPLETE_BBB_QRS_MS = 120.0
INCOMPLETE_RBBB_QRS_MS = 110.0
# Part IV (Rautaharju 2009): prolonged QTc >= 450 ms (men), >= 460 ms (women). Unknown sex uses
# the higher limit. Fridericia's correction is used where measured (part IV: Bazett over-corrects
# at high rates); Bazett otherwise.
QTC_LIMIT_MS = {"M": 450.0, "F": 460.0}
QTC_LIMIT_UNKNOWN_SEX_MS = 460.0
# Low voltage (part II; Hancock 2009 part V): QRS peak-to-peak < 0.5 mV in every limb lead or
# < 1.0 mV in every precordial lead.
LOW_VOLTAGE_LIMB_MV = 0.5
LOW_VOLTAGE_PRECORDIAL_MV = 1.0
# Part V (Hancock 2009): LVH voltage criteria in measurements.lvh.

LIMB, PRECORDIAL = range(0, 6), range(6, 12)


def _limb_leads_readable(q: QualityReport) -> bool:
    return all(q.leads[k].verdict != "unreadable" for k in LIMB) if len(q.leads) == 12 else False


def _interval_statements(m: Measurements, af: bool) -> list[RuleStatement]:
    out = []
    if m.pr_ms is not None and not af:
        if m.pr_ms < SHORT_PR_MS:
            out.append(RuleStatement(80, f"PR {m.pr_ms:.0f} ms < {SHORT_PR_MS:.0f} (AHA 2007 part II)"))
        elif m.pr_ms > LONG_PR_MS:
            out.append(RuleStatement(82, f"PR {m.pr_ms:.0f} ms > {LONG_PR_MS:.0f} (AHA 2007 part II)"))
    return out


def _qtc_statements(m: Measurements, sex: str | None) -> list[RuleStatement]:
    qtc, formula = (
        (m.qtc_fridericia_ms, "Fridericia")
        if m.qtc_fridericia_ms is not None
        else (m.qtc_bazett_ms, "Bazett")
    )
    if qtc is None:
        return []
    limit = QTC_LIMIT_MS.get(sex or "", QTC_LIMIT_UNKNOWN_SEX_MS)
    if qtc >= limit:
        return [
            RuleStatement(
                148,
                f"QTc ({formula}) {qtc:.0f} ms >= {limit:.0f} for sex {sex or 'unknown'} (AHA 2009 part IV)",
            )
        ]
    return []


def _axis_statements(m: Measurements) -> list[RuleStatement]:
    axis = m.qrs_axis_deg
    if axis is None:
        return []
    if -90.0 <= axis < LEFT_AXIS_DEG:
        return [RuleStatement(121, f"QRS axis {axis:.0f} deg < {LEFT_AXIS_DEG:.0f} (AHA 2009 part III)")]
    if RIGHT_AXIS_DEG < axis <= 180.0:
        return [RuleStatement(120, f"QRS axis {axis:.0f} deg > +{RIGHT_AXIS_DEG:.0f} (AHA 2009 part III)")]
    return []


def _qrs_gates(m: Measurements) -> list[RuleStatement]:
    qrs = m.qrs_ms
    if qrs is None:
        return []
    if qrs >= COMPLETE_BBB_QRS_MS:
        evidence = f"requirement only: QRS {qrs:.0f} ms >= {COMPLETE_BBB_QRS_MS:.0f} for complete BBB (AHA 2009 part III)"
        return [
            RuleStatement(104, evidence, requirement=True),
            RuleStatement(106, evidence, requirement=True),
        ]
    if qrs >= INCOMPLETE_RBBB_QRS_MS:
        evidence = f"requirement only: QRS {qrs:.0f} ms in 110-119 for incomplete RBBB (AHA 2009 part III)"
        return [RuleStatement(105, evidence, requirement=True)]
    return []


def _group_below(values: tuple[float | None, ...], leads: range, limit: float) -> float | None:
    """The largest amplitude of the group when every lead is measured and below ``limit``."""
    group = [values[k] for k in leads] if len(values) == 12 else []
    if not group or any(v is None for v in group):
        return None
    largest = max(v for v in group if v is not None)
    return largest if largest < limit else None


def _voltage_statements(
    m: Measurements, q: QualityReport, sex: str | None, adult: bool
) -> list[RuleStatement]:
    out = []
    amps = m.qrs_amplitude_mv
    limb = _group_below(amps, LIMB, LOW_VOLTAGE_LIMB_MV) if _limb_leads_readable(q) else None
    precordial = _group_below(amps, PRECORDIAL, LOW_VOLTAGE_PRECORDIAL_MV)
    if limb is not None:
        out.append(
            RuleStatement(125, f"QRS < {LOW_VOLTAGE_LIMB_MV} mV in every limb lead (largest {limb:.2f} mV)")
        )
    elif precordial is not None:
        out.append(
            RuleStatement(
                125,
                f"QRS < {LOW_VOLTAGE_PRECORDIAL_MV} mV in every precordial lead (largest {precordial:.2f} mV)",
            )
        )
    if not adult:
        return out
    support = lvh_voltage_criteria(m, sex)
    if support:
        out.append(RuleStatement(142, "; ".join(support) + " (AHA 2009 part V)"))
    return out


def rule_statements(
    m: Measurements,
    q: QualityReport,
    *,
    sex: str | None,
    age: float | None,
    amplitudes_valid: bool = True,
) -> tuple[RuleStatement, ...]:
    """Statements decided (or gated, or supported) by the measurements; empty when unreadable."""
    if not q.readable:
        return ()
    sex = sex.upper()[:1] if sex else None
    if m.paced:
        # A paced rhythm has no conducted intervals and no intrinsic rhythm to name: only the
        # amplitude statements (which need no boundaries) are decided.
        return (
            tuple(_voltage_statements(m, q, sex, age is None or age >= ADULT_AGE)) if amplitudes_valid else ()
        )
    adult = age is None or age >= ADULT_AGE
    af = is_atrial_tachyarrhythmia(m)
    sinus_rules = sinus_statements(m)
    out: list[RuleStatement] = []
    if adult:
        out += sinus_rules
    else:
        out += [s for s in sinus_rules if s.code == 23]
    out += af_statements(m)
    out += flutter_statements(m)
    out += [s for s in premature_statements(m) if not (af and (s.code == 30 or s.modifies == 30))]
    out += _interval_statements(m, af)
    out += _qtc_statements(m, sex)
    if adult:
        if _limb_leads_readable(q):
            out += _axis_statements(m)
        out += _qrs_gates(m)
        out += lbbb_statements(m, sex)
    if amplitudes_valid:
        out += _voltage_statements(m, q, sex, adult)
        out += st_elevation_statements(m, q, sex=sex, age=age)
    logger.debug("rule statements", extra={"codes": [s.code for s in out]})
    return tuple(out)
