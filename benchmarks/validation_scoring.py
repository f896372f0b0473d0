"""Scoring of the product's statements and critical findings against record labels. Pure: no IO.

Per code: TP (said, positive), FP (said, negative), FN (not said, positive), ``said_unlabelled``
(said where the labels cannot tell), sensitivity TP / (TP + FN) and PPV TP / (TP + FP) (None when
undefined). A statement counts when its code appears among the record's statements, modifiers
included (a modifier is "said" wherever it appears, whatever it modifies). Unreadable records have
no statements: their positives are false negatives, as a user would experience them.

A critical finding (``interpretation.critical.critical_findings``) is **supported** when the record
carries a label that justifies it (``SUPPORTED_BY``), **false** when the labels exclude every such
label, and **unverifiable** when they cannot tell. A finding not in ``SUPPORTED_BY`` is unverifiable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from benchmarks.validation_labels import MI_CODES, RecordLabels

__all__ = [
    "GROUPS",
    "MODIFIER_FLOOR",
    "SUPPORTED_BY",
    "AlarmCheck",
    "CodeRow",
    "RecordResult",
    "classify_alarm",
    "known_codes",
    "macro_summary",
    "score_codes",
    "score_groups",
]

MODIFIER_FLOOR = 300  # SPH modifiers are 308-367
# Critical finding -> the labels that justify it (any one of them).
SUPPORTED_BY: Mapping[str, tuple[int, ...]] = {
    # a flutter with a fast rate is not AF: the finding names AF
    "af_rapid_ventricular_response": (50,),
    # a bradycardic rhythm: sinus bradycardia, 2:1 / advanced / complete AV block, AF with slow response
    "severe_bradycardia": (22, 85, 87, 88, 347),
    "severe_tachycardia": (21, 50, 51, 54, 346),
    "long_qtc": (148,),
    "complete_heart_block": (88,),
    "st_elevation": (145, 146, *MI_CODES),  # an ST or MI label
    "acute_myocardial_infarction": MI_CODES,
}
# Record-level groups: "said" when any member is said, positive when any member is positive,
# negative when every member is negative.
GROUPS: Mapping[str, tuple[str, tuple[int, ...]]] = {
    "MI": ("any MI statement (160/161/165/166)", MI_CODES),
    "MI-definite": ("any MI statement said as definite, not 'possible'", MI_CODES),
}
DEFINITE_ONLY = frozenset({"MI-definite"})  # groups counted on definite statements only

Verdict = Literal["supported", "false", "unverifiable"]


@dataclass(frozen=True)
class RecordResult:
    """What the product said about one record, and its labels."""

    labels: RecordLabels
    said: frozenset[int]  # codes of every statement (modifiers included)
    readable: bool = True
    findings: tuple[Mapping[str, str], ...] = ()  # CriticalFinding.as_json() of each
    detail: Mapping[str, Any] = field(default_factory=dict)  # for the JSON only
    said_definite: frozenset[int] | None = None  # codes said with certainty "definite" (None: all)


@dataclass(frozen=True)
class CodeRow:
    code: int | str
    name: str
    labelled: int  # positive records
    negatives: int  # records known negative
    tp: int
    fp: int
    fn: int
    said_unlabelled: int

    @property
    def sensitivity(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def ppv(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "labelled": self.labelled, "negatives": self.negatives,
                "tp": self.tp, "fp": self.fp, "fn": self.fn, "said_unlabelled": self.said_unlabelled,
                "sensitivity": self.sensitivity, "ppv": self.ppv}  # fmt: skip


def _row(code: int | str, name: str, truths: Iterable[tuple[bool | None, bool]]) -> CodeRow:
    counts = {"labelled": 0, "negatives": 0, "tp": 0, "fp": 0, "fn": 0, "said_unlabelled": 0}
    for truth, said in truths:
        if truth is None:
            counts["said_unlabelled"] += said
            continue
        counts["labelled" if truth else "negatives"] += 1
        if said:
            counts["tp" if truth else "fp"] += 1
        elif truth:
            counts["fn"] += 1
    return CodeRow(code, name, **counts)


def score_codes(results: Sequence[RecordResult], names: Mapping[int, str]) -> list[CodeRow]:
    """One row per code of ``names`` (the product's codes), in code order."""
    return [
        _row(code, names[code], ((r.labels.truth(code), code in r.said) for r in results))
        for code in sorted(names)
    ]


def known_codes(results: Sequence[RecordResult]) -> set[int]:
    """Codes the set's labels speak about at all (positive or negative on some record)."""
    return {c for r in results for c in r.labels.positive | r.labels.negative}


def _any_truth(labels: RecordLabels, members: Iterable[int]) -> bool | None:
    """True if a member is positive; False if every member is negative; None otherwise."""
    truths = [labels.truth(c) for c in members]
    if any(truths):
        return True
    return False if all(t is False for t in truths) else None


def _said(result: RecordResult, definite_only: bool) -> frozenset[int]:
    if definite_only and result.said_definite is not None:
        return result.said_definite
    return result.said


def score_groups(results: Sequence[RecordResult], skipped: Iterable[int] = ()) -> list[CodeRow]:
    """The ``GROUPS`` rows (e.g. any MI statement against any MI label), except those with a skipped
    member. Members the set never labels (e.g. 166 in ptbxl-sph) are left out of the group's truth."""
    left_out, known = set(skipped), known_codes(results)
    rows = []
    for key, (name, members) in GROUPS.items():
        if left_out & set(members):
            continue
        labelled = [c for c in members if c in known]
        definite_only = key in DEFINITE_ONLY
        truths = (
            (_any_truth(r.labels, labelled) if labelled else None, bool(_said(r, definite_only) & set(members)))
            for r in results
        )
        rows.append(_row(key, name, truths))
    return rows


def macro_summary(rows: Sequence[CodeRow]) -> dict[str, Any]:
    """Macro sensitivity over primary statements with labels, macro PPV over those said on labelled
    records, and the micro totals (primary statements only)."""
    primary = [r for r in rows if isinstance(r.code, int) and r.code < MODIFIER_FLOOR]
    sens = [s for r in primary if r.labelled and (s := r.sensitivity) is not None]
    ppv = [p for r in primary if (p := r.ppv) is not None]
    tp, fp, fn = (sum(getattr(r, k) for r in primary) for k in ("tp", "fp", "fn"))
    return {
        "statements_with_labels": len(sens),
        "macro_sensitivity": sum(sens) / len(sens) if sens else None,
        "statements_with_calls": len(ppv),
        "macro_ppv": sum(ppv) / len(ppv) if ppv else None,
        "micro": {"tp": tp, "fp": fp, "fn": fn,
                  "sensitivity": tp / (tp + fn) if tp + fn else None, "ppv": tp / (tp + fp) if tp + fp else None},
    }  # fmt: skip


@dataclass(frozen=True)
class AlarmCheck:
    record: str
    finding: str
    evidence: str
    verdict: Verdict
    why: str

    def as_json(self) -> dict[str, str]:
        return {"record": self.record, "finding": self.finding, "evidence": self.evidence,
                "verdict": self.verdict, "why": self.why}  # fmt: skip


def classify_alarm(
    labels: RecordLabels,
    finding: str,
    known: Iterable[int] | None = None,
    override: tuple[Verdict, str] | None = None,
) -> tuple[Verdict, str]:
    """Supported / false / unverifiable for one critical finding on one record (see the module doc).

    ``known``: the codes the set labels at all (``known_codes``); supporting codes outside it are
    ignored (ptbxl-sph never labels 346, so AF or sinus tachycardia labels decide a fast rate).
    ``override``: a verdict from a reference other than statement labels (e.g. the cardiologists' QT).
    """
    if override is not None:
        return override
    support = SUPPORTED_BY.get(finding)
    if support is None:
        return "unverifiable", "no support rule for this finding"
    if known is not None:
        support = tuple(c for c in support if c in set(known)) or support
    truths = {c: labels.truth(c) for c in support}
    if any(truths.values()):
        return "supported", "labelled " + ", ".join(str(c) for c, t in truths.items() if t)
    unknown = [str(c) for c, t in truths.items() if t is None]
    if unknown:
        return "unverifiable", "labels cannot tell " + ", ".join(unknown)
    return "false", "no label among " + ", ".join(str(c) for c in support)
