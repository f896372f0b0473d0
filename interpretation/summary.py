"""The headline verdict and the critical findings of one result, together: what the worker's event,
``ecgstream diagnose`` and the page carry side by side. Pure: no IO."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from interpretation.critical import CriticalFinding, critical_findings
from interpretation.verdict import Verdict, headline_verdict

__all__ = ["ClinicalSummary", "clinical_summary"]


@dataclass(frozen=True)
class ClinicalSummary:
    verdict: Verdict
    critical_findings: tuple[CriticalFinding, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.as_json(),
            "critical_findings": [f.as_json() for f in self.critical_findings],
        }


def clinical_summary(
    statements: Sequence[Mapping[str, Any]],
    measurements: Mapping[str, Any] | None,
    *,
    readable: bool = True,
    unreadable_reasons: Sequence[str] = (),
    quality: Mapping[str, Any] | None = None,
) -> ClinicalSummary:
    """``headline_verdict`` and ``critical_findings`` of one stored or fresh result."""
    verdict = headline_verdict(statements, readable=readable, unreadable_reasons=unreadable_reasons, quality=quality)
    return ClinicalSummary(verdict, tuple(critical_findings(statements, measurements)))
