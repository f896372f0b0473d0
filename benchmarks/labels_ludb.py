"""LUDB's diagnoses (the ``#<diagnoses>:`` comments of each header) as SPH AHA statement labels.

The cardiologists of LUDB (Kalyakulina et al. 2020) gave every record a list of diagnoses by
category: rhythm, electric axis, conduction abnormalities, extrasystoles, hypertrophies, cardiac
pacing, ischemia, non-specific repolarization abnormalities. The headers are the source
(../shared/data/ludb/ludb.csv holds the same for records 1-20 only). The tables below are the whole
mapping; only SPH codes (../shared/data/ptbxl-sph/code.csv) are used, and diagnoses with none
(pacing, right atrial overload, incomplete LBBB, ischemia, ...) are reported as unmapped.

Assumptions (what makes a code *negative* on a record that does not affirm it):

- Rhythm is stated on every record (one ``Rhythm:`` line): 21, 22, 23, 50, 51, 54 are exhaustive.
- Electric axis is stated on every record except the paced ones: 120/121 are negative where an
  axis line says normal, vertical or horizontal, unknown where there is no axis line.
- Conduction abnormalities, extrasystoles, hypertrophies and infarction (STEMI, scar) are listed
  whenever present: their codes are negative when absent. "Undefined ischemia/scar/supp. NSTEMI"
  makes the MI code of that wall unknown; ischemia and non-specific repolarization abnormalities
  make ST/T statements (145, 146, 147) unknown (``UNKNOWN_WITH``).
- "Normal ECG" (1) is positive only when every diagnosis is sinus rhythm or a normal / vertical /
  horizontal axis (SPH's grammar: 1 stands alone), negative otherwise.
- Codes LUDB never states (short PR 80, low voltage 125, prolonged QT 148, early repolarization
  155, TU fusion 152, ...) are unknown on every record (``EXHAUSTIVE`` lists the others).
- A STEMI affirms ST deviation with elevation (145 + 363) and "acute" (330); a STEMI or scar of the
  anterior wall affirms 160, septal 165, inferior 161; scar affirms "old" (332). Lateral, apical and
  posterior walls have no SPH MI code: they make the MI codes of neighbouring walls unknown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from benchmarks.validation_labels import RecordLabels, graded_unknown

__all__ = ["AFFIRMS", "EXHAUSTIVE", "NEEDS_LINE", "NO_FINDING", "UNKNOWN_WITH", "diagnoses", "ludb_labels"]

# A diagnosis (lower case, without the final ".") -> the SPH codes it affirms; every matching row applies.
AFFIRMS: tuple[tuple[str, tuple[int, ...]], ...] = (
    (r"^rhythm: sinus tachycardia", (21,)),
    (r"^rhythm: sinus bradycardia", (22,)),
    (r"^rhythm: sinus arrhythmia", (23,)),
    (r"^rhythm: atrial fibrillation", (50,)),
    (r"^rhythm: atrial flutter", (51,)),
    (r"^electric axis of the heart: left axis deviation", (121,)),
    (r"^electric axis of the heart: right axis deviation", (120,)),
    (r"^incomplete right bundle branch block", (105,)),
    (r"^complete right bundle branch block", (106,)),
    (r"^complete left bundle branch block", (104,)),
    (r"^left anterior hemiblock", (101,)),
    (r"^left posterior hemiblock", (102,)),
    (r"^i degree av[- ]?block", (82,)),
    (r"^iii degree av[- ]?block", (88,)),
    (r"^atrial extrasystole", (30,)),
    (r"^ventricular extrasystole", (60,)),
    (r"^ventricular extrasystole.*couplet", (340,)),
    (r"^ventricular extrasystole.*bigemin", (341,)),
    (r"^ventricular extrasystole.*trigemin", (342,)),
    (r"^ventricular extrasystole.*polymorphic", (350,)),
    (r"^left atrial (hypertrophy|overload)", (140,)),
    (r"^left ventricular hypertrophy", (142,)),
    (r"^right ventricular hypertrophy", (143,)),
    (r"^stemi: ", (145, 363, 330)),
    (r"^(stemi|scar formation): anterior wall", (160,)),
    (r"^(stemi|scar formation): septal", (165,)),
    (r"^(stemi|scar formation): inferior wall", (161,)),
    (r"^scar formation: ", (332,)),
)
# Diagnoses that say a category is normal: no code, and not "unmapped".
NO_FINDING: tuple[str, ...] = (
    r"^rhythm: sinus rhythm$",
    r"^electric axis of the heart: (normal|vertical|horizontal)$",
)
# Codes whose absence is a negative (their category is annotated on every record, see the docstring).
EXHAUSTIVE: frozenset[int] = frozenset({
    1, 21, 22, 23, 50, 51, 54,  # rhythm
    120, 121,  # axis
    82, 83, 84, 85, 86, 87, 88, 101, 102, 104, 105, 106, 108,  # conduction
    30, 31, 36, 37, 60, 308, 310, 340, 341, 342, 349, 350, 346, 347,  # extrasystoles and their grading
    140, 142, 143,  # hypertrophy
    145, 146, 147, 160, 161, 165, 166, 330, 331, 332, 362, 363,  # ST-T and infarction
})  # fmt: skip
# A negative for these codes needs a line of the category (no axis is given on paced records).
NEEDS_LINE: Mapping[int, str] = {120: r"^electric axis of the heart", 121: r"^electric axis of the heart"}
_ISCHEMIA = r"^(ischemia|undefined ischemia|non-specific repolarization|scar formation)|overload"
# Not affirmed, but the record has a matching diagnosis: unknown rather than negative.
UNKNOWN_WITH: Mapping[int, str] = {
    160: r"^(stemi|scar formation|undefined ischemia)[^:]*: (anterior wall|apical|lateral wall)",
    165: r"^undefined ischemia[^:]*: septal",
    161: r"^(stemi|scar formation|undefined ischemia)[^:]*: (inferior wall|posterior wall)|^undefined ischemia[^:]*: inferior",
    166: r"^(stemi|scar formation|undefined ischemia)",  # LUDB does not grade extent
    145: _ISCHEMIA, 146: _ISCHEMIA + "|^stemi", 147: _ISCHEMIA + "|^stemi|bundle branch block|pacing",
    362: _ISCHEMIA + "|^stemi", 363: _ISCHEMIA,
    330: r"^undefined ischemia", 331: r"^(stemi|scar formation|undefined ischemia)", 332: r"^(stemi|undefined ischemia)",
    83: r"^ii degree", 84: r"^ii degree", 85: r"^ii degree", 86: r"^ii degree", 87: r"^ii degree",
}  # fmt: skip


def diagnoses(header: Path) -> list[str]:
    """The diagnoses of one LUDB header, in order, as written (without the final ".")."""
    text = header.read_text(encoding="utf-8", errors="replace")
    _, found, after = text.partition("#<diagnoses>:")
    if not found:
        return []
    items = (part.strip().rstrip(".").strip() for part in after.replace("\n", " ").split("#"))
    return [item for item in items if item]


def ludb_labels(header: Path) -> RecordLabels:
    """Labels of one LUDB record (see the module docstring for what is positive, negative, unknown)."""
    lines = [d.lower() for d in diagnoses(header)]
    written = diagnoses(header)
    positive: set[int] = set()
    unmapped: list[str] = []
    for line, original in zip(lines, written, strict=True):
        codes = {c for pattern, row in AFFIRMS if re.search(pattern, line) for c in row}
        positive |= codes
        if not codes and not any(re.search(p, line) for p in NO_FINDING):
            unmapped.append(original)
    if all(any(re.search(p, line) for p in NO_FINDING) for line in lines):
        positive.add(1)
    unknown = graded_unknown(positive)
    for code, pattern in UNKNOWN_WITH.items():
        if any(re.search(pattern, line) for line in lines):
            unknown.add(code)
    for code, pattern in NEEDS_LINE.items():
        if not any(re.search(pattern, line) for line in lines):
            unknown.add(code)
    negative = EXHAUSTIVE - positive - unknown
    return RecordLabels(header.stem, frozenset(positive), frozenset(negative), tuple(unmapped))
