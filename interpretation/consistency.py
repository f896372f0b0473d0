"""Consistency of the final statements with the measurements they rest on: one table, applied after fusion.

A statement that contradicts a measurement shown beside it is the worst defect an ECG program can
have ("incomplete RBBB" next to QRS 150 ms, LAFB next to an axis of +60, "Normal ECG" next to "no P
waves"), so every statement below is removed where its measurement says otherwise, whoever decided
it (rule or model). A measurement that is missing (None) neither confirms nor contradicts: the
statement stays, since the model may see what the measurement could not.

==========  ==================================================================================
statement   requires (AHA/ACCF/HRS recommendations: part II Mason 2007, part III Surawicz 2009,
            part IV Rautaharju 2009)
==========  ==================================================================================
1           sinus rhythm, ventricular rate 50-100 bpm, PR measured and 120-200 ms, QRS < 120 ms,
            QTc below the prolonged-QT limit, QRS axis -30..+90, not paced
21 / 22     sinus rhythm; 21 rate > 100, 22 ventricular or sinus rate < 60
23          sinus rhythm
30          not atrial fibrillation
50 / 51     not sinus rhythm (P waves before the dominant beats), not paced; 50 not where regular
            flutter waves were measured, 51 not where the rhythm measured fibrillation
101         QRS axis -90..-30 (left anterior fascicular block: -45..-90 in part III; -30 allows for
            the measurement's spread, anything right of it contradicts)
102         QRS axis +90..+180
104 / 106   QRS >= 120 ms
105         QRS 100-119 ms (an incomplete block is not a complete one)
120 / 121   QRS axis > +90 / -90..-30
148         QTc at or above the sex-specific limit (measurements.rules)
142         not low voltage (125) in the same recording
paced       no rhythm, AV-conduction, bundle-branch, fascicular, axis, QT or infarction statement
            (a paced QRS has none of the native conduction these describe)
modifier    its primary statement present (308/310/340/341/342 -> 30/36/60, 346/347 -> 50/51,
            349 -> 30/60, 350 -> 60, 362/363 -> 145/146, 367 -> 146/147, 330/331/332 -> MI)
==========  ==================================================================================
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from interpretation.fusion import FusedStatement
from measurements.rules import QTC_LIMIT_MS, QTC_LIMIT_UNKNOWN_SEX_MS
from measurements.rules_rhythm import sinus_rate_bpm
from measurements.types import Measurements

__all__ = ["CONSTRAINTS", "MODIFIER_PARENTS", "PACED_EXCLUDED", "Constraint", "Removed", "apply_constraints"]

logger = logging.getLogger(__name__)

MI_CODES = (160, 161, 165, 166)
MODIFIER_PARENTS: dict[int, tuple[int, ...]] = {
    308: (30, 36, 60), 310: (30, 36, 60), 340: (30, 60), 341: (30, 60), 342: (30, 60),
    346: (50, 51), 347: (50, 51), 349: (30, 60), 350: (60,),
    362: (145, 146), 363: (145, 146), 367: (146, 147),
    330: MI_CODES, 331: MI_CODES, 332: MI_CODES,
}  # fmt: skip
PACED_EXCLUDED = frozenset(
    {1, 21, 22, 23, 30, 31, 36, 37, 50, 51, 54, 80, 81, 82, 83, 84, 85, 86, 87, 88,
     101, 102, 104, 105, 106, 108, 120, 121, 148, *MI_CODES}
)  # fmt: skip


@dataclass(frozen=True)
class Removed:
    """A statement the table removed, and why."""

    code: int
    reason: str


Check = Callable[[Measurements, str | None], str | None]  # a reason when contradicted, else None


@dataclass(frozen=True)
class Constraint:
    """``check(measurements, sex)`` returns why ``codes`` contradict the measurements, or None."""

    codes: tuple[int, ...]
    requires: str
    check: Check


def _qtc(m: Measurements) -> float | None:
    return m.qtc_fridericia_ms if m.qtc_fridericia_ms is not None else m.qtc_bazett_ms


def _qtc_limit(sex: str | None) -> float:
    return QTC_LIMIT_MS.get((sex or "").upper()[:1], QTC_LIMIT_UNKNOWN_SEX_MS)


def _outside(name: str, value: float | None, low: float, high: float, unit: str) -> str | None:
    if value is None or low <= value <= high:
        return None
    return f"{name} {value:.0f} {unit} outside {low:g}..{high:g}"


def _not_sinus(m: Measurements, _: str | None) -> str | None:
    return None if m.rhythm in (None, "sinus") else f"rhythm is {m.rhythm.replace('_', ' ')}, not sinus"


def _normal(m: Measurements, sex: str | None) -> str | None:
    if m.rhythm not in (None, "sinus"):
        return f"rhythm is {m.rhythm.replace('_', ' ')}"
    if m.pr_ms is None and m.rhythm is not None:
        return f"PR not measured ({m.missing.get('pr_ms', 'no P waves').replace('_', ' ')})"
    qtc = _qtc(m)
    limit = _qtc_limit(sex)
    return (
        _outside("ventricular rate", m.heart_rate_bpm, 50.0, 100.0, "bpm")
        or _outside("PR", m.pr_ms, 120.0, 200.0, "ms")
        or _outside("QRS", m.qrs_ms, 0.0, 119.0, "ms")
        or _outside("QRS axis", m.qrs_axis_deg, -30.0, 90.0, "deg")
        or (f"QTc {qtc:.0f} ms >= {limit:.0f}" if qtc is not None and qtc >= limit else None)
    )


def _tachycardia(m: Measurements, sex: str | None) -> str | None:
    return _not_sinus(m, sex) or _outside("ventricular rate", m.heart_rate_bpm, 100.0001, 1000.0, "bpm")


def _bradycardia(m: Measurements, sex: str | None) -> str | None:
    if reason := _not_sinus(m, sex):
        return reason
    rates = [r for r in (m.heart_rate_bpm, sinus_rate_bpm(m)) if r is not None]
    if rates and min(rates) >= 60.0:
        return f"ventricular and sinus rate {min(rates):.0f} bpm >= 60"
    return None


def _atrial_fibrillation(m: Measurements, _: str | None) -> str | None:
    return "P waves before the dominant beats (sinus rhythm)" if m.rhythm == "sinus" else None


def _not_af(m: Measurements, _: str | None) -> str | None:
    return "rhythm is atrial fibrillation" if m.rhythm == "atrial_fibrillation" else None


def _fibrillation(m: Measurements, sex: str | None) -> str | None:
    if m.rhythm == "atrial_flutter":
        return "regular flutter waves measured (atrial flutter)"
    return _atrial_fibrillation(m, sex)


def _flutter(m: Measurements, sex: str | None) -> str | None:
    return _not_af(m, sex) or _atrial_fibrillation(m, sex)


def _qt(m: Measurements, sex: str | None) -> str | None:
    qtc, limit = _qtc(m), _qtc_limit(sex)
    return f"QTc {qtc:.0f} ms < {limit:.0f}" if qtc is not None and qtc < limit else None


def _axis(low: float, high: float) -> Check:
    return lambda m, _: _outside("QRS axis", m.qrs_axis_deg, low, high, "deg")


def _qrs(low: float, high: float) -> Check:
    return lambda m, _: _outside("QRS", m.qrs_ms, low, high, "ms")


CONSTRAINTS: tuple[Constraint, ...] = (
    Constraint((1,), "sinus rhythm and normal rate, intervals and axis", _normal),
    Constraint((21,), "sinus rhythm, rate > 100 bpm", _tachycardia),
    Constraint((22,), "sinus rhythm, rate < 60 bpm", _bradycardia),
    Constraint((23,), "sinus rhythm", _not_sinus),
    Constraint((30,), "not atrial fibrillation", _not_af),
    Constraint((50,), "no sinus P waves, no regular flutter waves", _fibrillation),
    Constraint((51,), "no sinus P waves, not fibrillation", _flutter),
    Constraint((101,), "QRS axis -90..-30", _axis(-90.0, -30.0)),
    Constraint((102,), "QRS axis +90..+180", _axis(90.0, 180.0)),
    Constraint((104, 106), "QRS >= 120 ms", _qrs(120.0, 400.0)),
    Constraint((105,), "QRS 100-119 ms", _qrs(100.0, 119.999)),
    Constraint((120,), "QRS axis +90..+180", _axis(90.0001, 180.0)),
    Constraint((121,), "QRS axis -90..-30", _axis(-90.0, -30.0001)),
    Constraint((148,), "QTc at or above the limit", _qt),
)
_BY_CODE = {code: c for c in CONSTRAINTS for code in c.codes}


def _contradiction(statement: FusedStatement, m: Measurements | None, sex: str | None) -> str | None:
    if m is None:
        return None
    if m.paced and statement.code in PACED_EXCLUDED:
        return "paced rhythm"
    constraint = _BY_CODE.get(statement.code)
    return None if constraint is None else constraint.check(m, sex)


def apply_constraints(
    statements: Sequence[FusedStatement], measurements: Measurements | None, *, sex: str | None = None
) -> tuple[tuple[FusedStatement, ...], tuple[Removed, ...]]:
    """The statements that do not contradict ``measurements`` (in order), and those removed with why.

    Primary statements first; then modifiers, each kept only where a primary statement it can
    qualify (``MODIFIER_PARENTS``; the one it names, if it names one) survived.
    """
    kept: list[FusedStatement] = []
    removed: list[Removed] = []
    primary = [s for s in statements if s.code not in MODIFIER_PARENTS]
    for s in primary:
        reason = _contradiction(s, measurements, sex)
        if reason is None:
            kept.append(s)
        else:
            removed.append(Removed(s.code, reason))
    codes = {s.code for s in kept}
    if 125 in codes and 142 in codes:
        kept = [s for s in kept if s.code != 142]
        removed.append(Removed(142, "low voltage in the same recording"))
    codes = {s.code for s in kept}
    for s in statements:
        if s.code not in MODIFIER_PARENTS:
            continue
        parents = (s.modifies,) if s.modifies is not None else MODIFIER_PARENTS[s.code]
        if any(p in codes for p in parents):
            kept.append(s)
        else:
            removed.append(Removed(s.code, f"modifier without its statement ({'/'.join(map(str, parents))})"))
    if removed:
        logger.debug(
            "statements removed by the consistency table", extra={"removed": [r.code for r in removed]}
        )
    return tuple(kept), tuple(removed)
