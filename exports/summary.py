"""What both exports say in words: the headline, the statements, critical findings, confirmation.

Built from the event alone with the same pure functions the result page uses
(``interpretation.verdict.headline_verdict``, ``interpretation.critical.critical_findings``), so the
EHR reads the interpretation the clinician sees, never a model probability.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from exports.codes import statement_code
from interpretation.critical import CriticalFinding, critical_findings
from interpretation.verdict import Verdict, headline_verdict
from schemas import DiagnosisEvent

__all__ = ["CodedStatement", "Summary", "summarise", "withdrawal_sentences"]

AbnormalFlag = Literal["N", "A", "AA"]


@dataclass(frozen=True)
class CodedStatement:
    code: str  # in ``exports.codes.STATEMENT_SYSTEM``: ``21`` or ``30+310``
    display: str  # the statement's own description
    text: str  # in words, a modifier with the statement it qualifies


@dataclass(frozen=True)
class Summary:
    verdict: Verdict
    statements: tuple[CodedStatement, ...]
    critical: tuple[CriticalFinding, ...]
    sentences: tuple[str, ...]  # headline, statements, critical findings, confirmation

    @property
    def conclusion(self) -> str:
        return " ".join(self.sentences)

    @property
    def abnormal_flag(self) -> AbnormalFlag | None:
        """HL7 table 0078: N normal, A abnormal, AA critically abnormal; None when unreadable."""
        if self.critical:
            return "AA"
        return {"normal": "N", "abnormal": "A"}.get(self.verdict.kind)  # type: ignore[return-value]


def _coded(diagnosis: DiagnosisEvent) -> tuple[CodedStatement, ...]:
    names = {s.code: s.description for s in diagnosis.statements if s.modifies is None}
    coded = []
    for s in diagnosis.statements:
        if s.modifies is not None and s.modifies in names:
            text = f"{names[s.modifies]}: {s.description.lower()}"
        elif s.modifies is not None:
            text = f"{s.description} (qualifies statement {s.modifies})"
        else:
            text = s.description
        coded.append(CodedStatement(statement_code(s.code, s.modifies), s.description, text))
    return tuple(coded)


def summarise(diagnosis: DiagnosisEvent, *, confirmed_by: str | None = None, comment: str | None = None) -> Summary:
    """Headline, coded statements, critical findings and the conclusion text of one diagnosis;
    ``comment``: the confirming physician's free text, a sentence of its own."""
    statements: list[dict[str, Any]] = [asdict(s) for s in diagnosis.statements]
    quality = None if diagnosis.quality is None else diagnosis.quality.as_record()
    measurements = None if diagnosis.measurements is None else diagnosis.measurements.as_record()
    verdict = headline_verdict(
        statements, readable=diagnosis.readable, unreadable_reasons=diagnosis.unreadable_reasons, quality=quality
    )
    critical = tuple(critical_findings(statements, measurements)) if verdict.kind != "unreadable" else ()
    coded = _coded(diagnosis) if verdict.kind != "unreadable" else ()
    parts = [verdict.text + "."]
    if coded:
        parts.append("Statements: " + "; ".join(s.text for s in coded) + ".")
    if critical:
        parts.append("Critical: " + "; ".join(f"{c.title} ({c.evidence})" for c in critical) + ".")
    if comment:
        parts.append(f"Comment: {' '.join(comment.split())}")
    if confirmed_by:
        parts.append(f"Confirmed by {confirmed_by}.")
    else:
        parts.append(f"Unconfirmed computer interpretation (ecgstream {diagnosis.model_version}).")
    return Summary(verdict, coded, critical, tuple(parts))


def withdrawal_sentences(
    model_version: str, *, rejected_by: str, reason: str | None = None, comment: str | None = None
) -> tuple[str, ...]:
    """What a withdrawal of the computer's interpretation says: who rejected it, why, the free text."""
    parts = [f"Computer interpretation (ecgstream {model_version}) withdrawn: rejected by {rejected_by}."]
    if reason:
        parts.append(f"Reason: {' '.join(reason.split())}")
    if comment:
        parts.append(f"Comment: {' '.join(comment.split())}")
    return tuple(parts)
