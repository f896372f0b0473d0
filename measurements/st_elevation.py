"""ST elevation meeting the 4th universal definition of myocardial infarction (Thygesen et al. 2018,
Circulation 138:e618): ST elevation at the J point in >= 2 contiguous leads, >= 0.1 mV in every
lead other than V2-V3; in V2-V3 >= 0.2 mV in men >= 40 years, >= 0.25 mV in men < 40 years,
>= 0.15 mV in women whatever their age.

Measured on the median beat at the native rate (``Measurements.st_j_mv``: the level at the global
QRS end, the J point, against the PR baseline just before the QRS onset, the definition's "QRS
onset" reference), millivolt input only. Contiguous leads: the inferior group (II, III, aVF), the
lateral group (I, aVL, V5, V6), any two of a group, and the adjacent precordial pairs V1-V2 ...
V5-V6.

Where the criterion cannot be trusted the function stays silent (a false STEMI alarm is the worst
error a program can make; ``StElevation.excluded`` says why):

- ``paced``: paced complexes (their ST follows the paced QRS);
- ``wide_qrs``: QRS >= 120 ms (LBBB, RBBB, IVCD: secondary ST-T change; the definition does not
  apply, ESC 2017 STEMI guideline). Sgarbossa's concordant criteria are not implemented;
- ``qrs_not_measured`` / ``not_measured``: no QRS duration or no J-point level (a wide QRS cannot
  be excluded);
- ``child``: under 18 years (adult criteria; the young's normal ST elevation in V2-V3 is larger).

Known mimics: left ventricular hypertrophy (discordant ST elevation in V1-V3 under deep S waves):
when an LVH voltage criterion holds (``measurements.lvh``), a lead counts only if its elevation is
also >= 25 % of its QRS amplitude (Armstrong et al. 2012, Am J Cardiol 110:977: that ratio kept the
sensitivity of the classic criteria with specificity 91 % instead of 58 % in LVH). Early
repolarisation and pericarditis are not told apart (the sex- and age-specific limits in V2-V3 are
the definition's own protection against normal variants). The definition asks for *new* elevation:
one recording cannot say whether it is new, so the statement says "meets the criteria".

Leads flagged unreadable in the ``QualityReport`` never count.
"""

from __future__ import annotations

from dataclasses import dataclass

from measurements.lvh import lvh_voltage_criteria
from measurements.types import Measurements, QualityReport, RuleStatement

__all__ = [
    "CONTIGUOUS",
    "OTHER_LEADS_MV",
    "ST_DEVIATION",
    "ST_ELEVATION",
    "StElevation",
    "st_elevation",
    "st_elevation_statements",
    "v2_v3_limit_mv",
]

LEADS = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
ST_DEVIATION, ST_ELEVATION = 145, 363  # SPH code.csv: "ST deviation", modifier "Elevation"
OTHER_LEADS_MV = 0.10
V2_V3 = ("V2", "V3")
MEN_40_MV, MEN_UNDER_40_MV, WOMEN_MV = 0.20, 0.25, 0.15
WIDE_QRS_MS = 120.0
ADULT_AGE = 18.0
LVH_RATIO = 0.25  # Armstrong 2012: ST elevation >= 25 % of the lead's QRS amplitude
# Contiguous groups: any two leads of a group (inferior, lateral) or an adjacent precordial pair.
CONTIGUOUS: dict[str, tuple[str, ...]] = {
    "inferior": ("II", "III", "aVF"),
    "lateral": ("I", "aVL", "V5", "V6"),
    "V1-V2": ("V1", "V2"),
    "V2-V3": ("V2", "V3"),
    "V3-V4": ("V3", "V4"),
    "V4-V5": ("V4", "V5"),
    "V5-V6": ("V5", "V6"),
}


@dataclass(frozen=True)
class StElevation:
    """Which leads and contiguous groups meet the criterion; ``excluded`` when it was not judged."""

    leads: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    evidence: str = ""
    excluded: str | None = None

    @property
    def met(self) -> bool:
        return bool(self.groups)


def v2_v3_limit_mv(sex: str | None, age: float | None) -> float:
    """The V2-V3 limit; unknown sex, or a man of unknown age, gets the highest (men < 40 y)."""
    if sex == "F":
        return WOMEN_MV
    if sex == "M" and age is not None:
        return MEN_40_MV if age >= 40 else MEN_UNDER_40_MV
    return MEN_UNDER_40_MV


def _limit_text(sex: str | None, age: float | None) -> str:
    if sex == "F":
        return "women"
    if sex == "M" and age is not None:
        return "men >= 40 y" if age >= 40 else "men < 40 y"
    return "sex or age unknown: men < 40 y"


def _exclusion(m: Measurements, age: float | None) -> str | None:
    if m.paced:
        return "paced"
    if age is not None and age < ADULT_AGE:
        return "child"
    if m.qrs_ms is None:
        return "qrs_not_measured"
    if m.qrs_ms >= WIDE_QRS_MS:
        return "wide_qrs"
    if len(m.st_j_mv) != len(LEADS):
        return "not_measured"
    return None


def st_elevation(m: Measurements, q: QualityReport, *, sex: str | None, age: float | None) -> StElevation:
    """The leads and contiguous groups with ST elevation meeting the 4th universal definition."""
    excluded = "unreadable" if not q.readable else _exclusion(m, age)
    if excluded is not None:
        return StElevation(excluded=excluded)
    readable = {LEADS[k] for k, lead in enumerate(q.leads[: len(LEADS)]) if lead.verdict != "unreadable"}
    lvh = bool(lvh_voltage_criteria(m, sex))
    v23 = v2_v3_limit_mv(sex, age)
    elevated: dict[str, str] = {}
    for k, name in enumerate(LEADS):
        level, amplitude = m.st_j_mv[k], m.qrs_amplitude_mv[k] if len(m.qrs_amplitude_mv) > k else None
        limit = v23 if name in V2_V3 else OTHER_LEADS_MV
        if name not in readable or level is None or level < limit:
            continue
        if lvh and (amplitude is None or level < LVH_RATIO * amplitude):
            continue
        elevated[name] = f"{name} {level:+.2f} mV >= {limit:.2f}"
    groups = tuple(g for g, members in CONTIGUOUS.items() if sum(lead in elevated for lead in members) >= 2)
    if not groups:
        return StElevation()
    leads = tuple(name for name in LEADS if name in elevated and any(name in CONTIGUOUS[g] for g in groups))
    evidence = (
        f"ST elevation at J: {', '.join(elevated[name] for name in leads)} (V2-V3 limit for {_limit_text(sex, age)}"
        f"{'; LVH voltage: >= 25 % of the QRS amplitude, Armstrong 2012' if lvh else ''}); "
        f"contiguous: {', '.join(groups)} (4th universal definition of MI, Thygesen 2018)"
    )
    return StElevation(leads, groups, evidence)


def st_elevation_statements(
    m: Measurements, q: QualityReport, *, sex: str | None, age: float | None
) -> list[RuleStatement]:
    """145 (ST deviation) with its modifier 363 (elevation) when the criterion is met; else []."""
    found = st_elevation(m, q, sex=sex, age=age)
    if not found.met:
        return []
    return [
        RuleStatement(ST_DEVIATION, found.evidence),
        RuleStatement(ST_ELEVATION, found.evidence, modifies=ST_DEVIATION),
    ]
