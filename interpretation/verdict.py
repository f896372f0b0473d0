"""The headline verdict of one result: normal, abnormal (count + most important statement) or
unreadable (with the reason), from the fused statements and the quality verdict. Pure: no IO.

The verdict is never read off a single probability: it uses the statements the fusion asserted
(``interpretation.fusion``) and the quality gate's decision (``readable`` / reasons / quality).

Severity order (``SEVERITY_ORDER``, most important first), by what a reader must act on first:
acute infarction, complete / high-grade AV block, tachyarrhythmias (AF, flutter, junctional
tachycardia), ST deviation, long QT, pre-excitation, LBBB, other AV blocks, ventricular ectopy,
hypertrophy, RBBB, T-wave change, conduction and rate statements, then the rest. Codes not listed
rank after the listed ones, in code order; modifiers (code >= 300) are not counted as statements.

Only definite statements (``interpretation.certainty``: measurement-decided, or a confident model)
are ranked for the headline: a weak model probability never makes "most important: MI". Where only
possible statements are abnormal, the headline says "Borderline ECG: consider X" with X the most
probable of them (severity says nothing about how likely a weak statement is). Stored statements
without a certainty (written before it existed) count as definite.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["NORMAL_CODE", "SEVERITY_ORDER", "Verdict", "VerdictKind", "headline_verdict", "severity_rank"]

NORMAL_CODE = 1
MODIFIER_FLOOR = 300  # AHA modifier codes (308 ... 367) qualify a statement; they are not statements
SEVERITY_ORDER: tuple[int, ...] = (
    166, 160, 165, 161,  # MI (extensive anterior, anterior, anteroseptal, inferior)
    88, 87, 84,  # complete, advanced and Mobitz II AV block
    50, 51, 54,  # atrial fibrillation, flutter, junctional tachycardia
    146, 145, 148,  # ST deviation (+T change), prolonged QT
    108, 104, 86, 85, 83,  # pre-excitation, LBBB, other AV blocks
    60, 143, 142, 106, 147, 153, 152,  # VPCs, hypertrophy, RBBB, T-wave / ST-T changes
    82, 81, 101, 102, 21, 22, 36, 37, 31, 30, 105, 120, 121, 125, 140, 155, 80, 23,
)  # fmt: skip
_RANK = {code: rank for rank, code in enumerate(SEVERITY_ORDER)}

VerdictKind = Literal["normal", "abnormal", "unreadable", "no_statement"]


@dataclass(frozen=True)
class Verdict:
    """``text`` is the headline; ``most_important`` the top statement's code (abnormal only)."""

    kind: VerdictKind
    text: str
    abnormal_count: int = 0
    most_important: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "text": self.text,
            "abnormal_count": self.abnormal_count,
            "most_important_code": self.most_important,
        }

    @classmethod
    def from_json(cls, stored: Mapping[str, Any]) -> Verdict:
        """The verdict of ``as_json()`` (as stored with the diagnosis and carried in its event)."""
        code = stored.get("most_important_code")
        return cls(stored["kind"], str(stored["text"]), int(stored.get("abnormal_count") or 0),
                   None if code is None else int(code))  # fmt: skip


def severity_rank(code: int) -> tuple[int, int]:
    """Sort key: listed codes by ``SEVERITY_ORDER``, then unlisted codes by code."""
    return (_RANK.get(code, len(SEVERITY_ORDER)), code)


def _is_abnormal_statement(code: int) -> bool:
    return code != NORMAL_CODE and code < MODIFIER_FLOOR


def _definite(statement: Mapping[str, Any]) -> bool:
    return statement.get("certainty", "definite") != "possible"


def _name(statement: Mapping[str, Any]) -> str:
    return str(statement.get("description") or statement.get("name") or f"statement {statement['code']}")


def _unreadable_reason(reasons: Sequence[str], quality: Mapping[str, Any] | None) -> str:
    found = list(reasons) or list((quality or {}).get("problems") or [])
    if not found and quality:
        found = [f"lead {q['lead']}" for q in quality.get("leads") or [] if q.get("verdict") == "unreadable"]
    return ", ".join(r.replace("_", " ") for r in found) or "signal quality too low"


def headline_verdict(
    statements: Sequence[Mapping[str, Any]],
    *,
    readable: bool = True,
    unreadable_reasons: Sequence[str] = (),
    quality: Mapping[str, Any] | None = None,
) -> Verdict:
    """Unreadable (quality gate said so, or the quality verdict is ``unreadable``) wins; then any
    asserted non-normal statement makes the ECG abnormal (even next to "Normal ECG"); "Normal ECG"
    alone is normal; no asserted statement at all is ``no_statement`` (review the tracing)."""
    if not readable or (quality or {}).get("verdict") == "unreadable":
        return Verdict("unreadable", f"Unreadable: {_unreadable_reason(unreadable_reasons, quality)}")
    ranked = sorted(
        (s for s in statements if _is_abnormal_statement(int(s["code"]))),
        key=lambda s: severity_rank(int(s["code"])),
    )
    abnormal = [s for s in ranked if _definite(s)]
    possible = [s for s in ranked if not _definite(s)]
    if abnormal:
        top = abnormal[0]
        count = len(abnormal)
        noun = "statement" if count == 1 else "statements"
        extra = f" (and {len(possible)} possible)" if possible else ""
        return Verdict(
            "abnormal",
            f"Abnormal ECG: {count} {noun}, most important: {_name(top)}{extra}",
            count,
            int(top["code"]),
        )
    if possible:
        # Among weak statements severity says nothing about likelihood: name the most probable.
        top = max(possible, key=lambda s: float(s.get("probability") or 0.0))
        noun = "statement" if len(possible) == 1 else "statements"
        return Verdict(
            "abnormal",
            f"Borderline ECG: consider {_name(top)} ({len(possible)} possible {noun})",
            0,
            int(top["code"]),
        )
    if any(int(s["code"]) == NORMAL_CODE and _definite(s) for s in statements):
        return Verdict("normal", "Normal ECG")
    return Verdict("no_statement", "No statement asserted: review the tracing")
