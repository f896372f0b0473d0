"""Agreement of two model versions' conclusions on the same recordings. Pure: no IO.

The *stored* conclusion is the authoritative diagnosis; the *replay* conclusion is another model
version's on the same samples (``ecgstream replay``, or the worker's shadow model). Per recording
the comparison uses what a reader sees: the asserted statement codes (every fused statement,
"possible" ones and modifiers included; an unreadable recording asserts none), the critical
findings (``interpretation.critical``) and the headline verdict (``interpretation.verdict``).

Per statement code, over the ``n`` compared recordings, a 2x2 table: ``both``, ``no_longer_called``
(stored only), ``newly_called`` (replay only) and neither; Cohen's kappa
``(p_o - p_e) / (1 - p_e)`` (Cohen 1960, Educ Psychol Meas 20:37) with ``p_o`` the observed and
``p_e`` the chance agreement from the two versions' positive rates. Where ``p_e == 1`` (both
versions call the code on every recording) the formula is undefined and kappa is 1.0: the versions
agree on every recording. Only codes that either version called are listed.

Memory is bounded whatever the number of recordings: counts, plus at most ``examples`` recording
ids per list.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from interpretation.critical import critical_findings
from interpretation.verdict import headline_verdict

__all__ = ["Conclusion", "conclusion_of", "cohen_kappa", "CodeAgreement", "AgreementReport", "AgreementTally"]


@dataclass(frozen=True)
class Conclusion:
    """What one version concluded about one recording."""

    codes: frozenset[int]
    critical: frozenset[str]  # critical finding ids
    verdict_kind: str  # normal, abnormal, borderline (only "possible" abnormal statements), unreadable, no_statement
    verdict: str  # the headline text
    readable: bool = True
    possible: frozenset[int] = frozenset()  # codes asserted with certainty "possible" (interpretation.certainty)


def conclusion_of(
    statements: Sequence[Mapping[str, Any]],
    *,
    readable: bool = True,
    unreadable_reasons: Sequence[str] = (),
    quality: Mapping[str, Any] | None = None,
    measurements: Mapping[str, Any] | None = None,
) -> Conclusion:
    """The conclusion of one diagnosis (statements as stored: dicts with ``code``), by the same
    functions as the worker's event and the web page."""
    verdict = headline_verdict(statements, readable=readable, unreadable_reasons=unreadable_reasons, quality=quality)
    borderline = verdict.kind == "abnormal" and verdict.abnormal_count == 0  # "Borderline ECG: consider X"
    return Conclusion(
        codes=frozenset(int(s["code"]) for s in statements),
        critical=frozenset(f.finding for f in critical_findings(statements, measurements)),
        verdict_kind="borderline" if borderline else verdict.kind,
        verdict=verdict.text,
        readable=readable,
        possible=frozenset(int(s["code"]) for s in statements if s.get("certainty") == "possible"),
    )


def cohen_kappa(both: int, stored_only: int, replay_only: int, neither: int) -> float:
    """Cohen's kappa of a 2x2 table (1.0 where chance agreement is 1, see the module docstring)."""
    n = both + stored_only + replay_only + neither
    if n == 0:
        return 1.0
    p_o = (both + neither) / n
    stored_pos, replay_pos = (both + stored_only) / n, (both + replay_only) / n
    p_e = stored_pos * replay_pos + (1 - stored_pos) * (1 - replay_pos)
    if p_e >= 1.0:
        return 1.0
    return (p_o - p_e) / (1 - p_e)


def _add_example(examples: list[str], recording_id: str, cap: int) -> None:
    if len(examples) < cap:
        examples.append(recording_id)


@dataclass
class CodeAgreement:
    """One statement code's 2x2 table and example recordings of each change."""

    code: int
    description: str = ""
    both: int = 0
    no_longer_called: int = 0
    newly_called: int = 0
    newly_examples: list[str] = field(default_factory=list)
    no_longer_examples: list[str] = field(default_factory=list)

    @property
    def n_stored(self) -> int:
        return self.both + self.no_longer_called

    @property
    def n_replay(self) -> int:
        return self.both + self.newly_called

    def kappa(self, n: int) -> float:
        neither = n - self.both - self.no_longer_called - self.newly_called
        return cohen_kappa(self.both, self.no_longer_called, self.newly_called, neither)

    def as_json(self, n: int) -> dict[str, Any]:
        return {
            "code": self.code, "description": self.description, "n_stored": self.n_stored,
            "n_replay": self.n_replay, "both": self.both, "kappa": round(self.kappa(n), 4),
            "newly_called": self.newly_called, "no_longer_called": self.no_longer_called,
            "newly_called_examples": list(self.newly_examples),
            "no_longer_called_examples": list(self.no_longer_examples),
        }  # fmt: skip


@dataclass(frozen=True)
class AgreementReport:
    """The agreement of ``n`` recordings (see ``AgreementTally``); ``as_json`` is its full form."""

    n: int
    codes: tuple[CodeAgreement, ...]  # by code
    records_with_statement_changes: int
    critical_raised: Mapping[str, int]  # finding -> recordings where only the replay raises it
    critical_cleared: Mapping[str, int]  # finding -> recordings where only the stored diagnosis has it
    critical_changed: int  # recordings whose set of critical findings differs
    critical_examples: tuple[dict[str, Any], ...]
    verdict_changed: int  # recordings whose headline text differs
    verdict_transitions: Mapping[str, int]  # "normal -> abnormal" -> recordings (kind changed)
    verdict_examples: tuple[dict[str, Any], ...]
    readability_changed: int
    certainty_changed: int = 0  # recordings where a code both versions call changed definite <-> possible

    def code(self, code: int) -> CodeAgreement | None:
        return next((c for c in self.codes if c.code == code), None)

    @property
    def identical(self) -> bool:
        """No recording changed statements, critical findings, verdict or readability."""
        return not (self.records_with_statement_changes or self.critical_changed or self.verdict_changed
                    or self.readability_changed or self.certainty_changed)  # fmt: skip

    def as_json(self) -> dict[str, Any]:
        return {
            "records_compared": self.n,
            "records_with_statement_changes": self.records_with_statement_changes,
            "records_with_certainty_changes": self.certainty_changed,
            "statements": [c.as_json(self.n) for c in self.codes],
            "critical_findings": {
                "records_changed": self.critical_changed, "raised": dict(self.critical_raised),
                "cleared": dict(self.critical_cleared), "examples": list(self.critical_examples),
            },
            "verdicts": {
                "records_changed": self.verdict_changed, "transitions": dict(self.verdict_transitions),
                "examples": list(self.verdict_examples),
            },
            "readability_changed": self.readability_changed,
        }  # fmt: skip


class AgreementTally:
    """Adds up the comparisons one recording at a time (``add``); ``report()`` at any point."""

    def __init__(self, examples: int = 5) -> None:
        self.examples = examples
        self.n = 0
        self._codes: dict[int, CodeAgreement] = {}
        self._statement_changes = 0
        self._raised: Counter[str] = Counter()
        self._cleared: Counter[str] = Counter()
        self._critical_changed = 0
        self._critical_examples: list[dict[str, Any]] = []
        self._verdict_changed = 0
        self._transitions: Counter[str] = Counter()
        self._verdict_examples: list[dict[str, Any]] = []
        self._readability_changed = 0
        self._certainty_changed = 0

    def describe(self, statements: Sequence[Mapping[str, Any]]) -> None:
        """Remember the descriptions of these statements' codes (for the report)."""
        for s in statements:
            entry = self._entry(int(s["code"]))
            if not entry.description and s.get("description"):
                entry.description = str(s["description"])

    def _entry(self, code: int) -> CodeAgreement:
        return self._codes.setdefault(code, CodeAgreement(code))

    def add(self, recording_id: str, stored: Conclusion, replay: Conclusion) -> None:
        """Compare one recording's stored and replayed conclusions."""
        self.n += 1
        for code in stored.codes & replay.codes:
            self._entry(code).both += 1
        for code in stored.codes - replay.codes:
            entry = self._entry(code)
            entry.no_longer_called += 1
            _add_example(entry.no_longer_examples, recording_id, self.examples)
        for code in replay.codes - stored.codes:
            entry = self._entry(code)
            entry.newly_called += 1
            _add_example(entry.newly_examples, recording_id, self.examples)
        self._statement_changes += stored.codes != replay.codes
        common = stored.codes & replay.codes
        self._certainty_changed += (stored.possible & common) != (replay.possible & common)
        self._readability_changed += stored.readable != replay.readable
        if stored.critical != replay.critical:
            self._critical_changed += 1
            self._raised.update(replay.critical - stored.critical)
            self._cleared.update(stored.critical - replay.critical)
            if len(self._critical_examples) < self.examples * 4:
                self._critical_examples.append({
                    "recording_id": recording_id, "stored": sorted(stored.critical), "replay": sorted(replay.critical),
                })  # fmt: skip
        if stored.verdict != replay.verdict:
            self._verdict_changed += 1
            if stored.verdict_kind != replay.verdict_kind:
                self._transitions[f"{stored.verdict_kind} -> {replay.verdict_kind}"] += 1
            if len(self._verdict_examples) < self.examples * 4:
                self._verdict_examples.append(
                    {"recording_id": recording_id, "stored": stored.verdict, "replay": replay.verdict}
                )

    def report(self) -> AgreementReport:
        listed = tuple(
            replace(c, newly_examples=list(c.newly_examples), no_longer_examples=list(c.no_longer_examples))
            for c in sorted(self._codes.values(), key=lambda c: c.code)
            if c.n_stored or c.n_replay
        )  # copies: the tally may go on
        return AgreementReport(
            n=self.n,
            codes=listed,
            records_with_statement_changes=self._statement_changes,
            critical_raised=dict(sorted(self._raised.items())),
            critical_cleared=dict(sorted(self._cleared.items())),
            critical_changed=self._critical_changed,
            critical_examples=tuple(dict(e) for e in self._critical_examples),
            verdict_changed=self._verdict_changed,
            verdict_transitions=dict(self._transitions.most_common()),
            verdict_examples=tuple(dict(e) for e in self._verdict_examples),
            readability_changed=self._readability_changed,
            certainty_changed=self._certainty_changed,
        )
