"""The headline verdict and the critical findings of one result, together: what the worker's event,
``ecgstream diagnose`` and the page carry side by side. Pure: no IO.

The worker computes them once (``clinical_summary``) and stores them with the diagnosis; readers take
the stored ones (``stored_summary``, ``stored_verdict``) and compute them the same way only for rows
stored before they were kept (NULL columns).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from interpretation.critical import CriticalFinding, critical_findings
from interpretation.verdict import Verdict, headline_verdict

__all__ = ["ClinicalSummary", "StoredResult", "clinical_summary", "stored_summary", "stored_verdict"]


@dataclass(frozen=True)
class ClinicalSummary:
    verdict: Verdict
    critical_findings: tuple[CriticalFinding, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.as_json(),
            "critical_findings": [f.as_json() for f in self.critical_findings],
        }


class StoredResult(Protocol):
    """A diagnosis as stored (``storage.DiagnosisResult`` and ``storage.DiagnosisView`` both are one);
    ``verdict`` / ``critical_findings`` are the stored JSON, None where the row predates them."""

    @property
    def statements(self) -> Sequence[Mapping[str, Any]]: ...
    @property
    def measurements(self) -> Mapping[str, Any] | None: ...
    @property
    def readable(self) -> bool: ...
    @property
    def unreadable_reasons(self) -> Sequence[str] | None: ...
    @property
    def quality(self) -> Mapping[str, Any] | None: ...
    @property
    def verdict(self) -> Mapping[str, Any] | None: ...
    @property
    def critical_findings(self) -> Sequence[Mapping[str, Any]] | None: ...


def clinical_summary(
    statements: Sequence[Mapping[str, Any]],
    measurements: Mapping[str, Any] | None,
    *,
    readable: bool = True,
    unreadable_reasons: Sequence[str] = (),
    quality: Mapping[str, Any] | None = None,
) -> ClinicalSummary:
    """``headline_verdict`` and ``critical_findings`` of one stored or fresh result."""
    verdict = headline_verdict(
        statements, readable=readable, unreadable_reasons=unreadable_reasons, quality=quality
    )
    return ClinicalSummary(verdict, tuple(critical_findings(statements, measurements)))


def stored_verdict(
    stored: Mapping[str, Any] | None,
    statements: Sequence[Mapping[str, Any]],
    *,
    readable: bool,
    unreadable_reasons: Sequence[str] | None,
    quality: Mapping[str, Any] | None,
) -> Verdict:
    """The ``stored`` verdict; for a row stored before verdicts were kept (None), the one
    ``headline_verdict`` gives, as the worker computes it."""
    if stored is not None:
        return Verdict.from_json(stored)
    return headline_verdict(
        statements, readable=readable, unreadable_reasons=unreadable_reasons or (), quality=quality
    )


def stored_summary(result: StoredResult) -> ClinicalSummary:
    """The verdict and critical findings stored with ``result``; computed as the worker computes
    them (``clinical_summary``) where the row predates them."""
    if result.verdict is None or result.critical_findings is None:
        return clinical_summary(result.statements, result.measurements, readable=result.readable,
                                unreadable_reasons=result.unreadable_reasons or (), quality=result.quality)  # fmt: skip
    findings = tuple(CriticalFinding.from_json(finding) for finding in result.critical_findings)
    return ClinicalSummary(Verdict.from_json(result.verdict), findings)
