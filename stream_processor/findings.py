"""What the worker computes once per diagnosis and stores with it: the headline verdict, the critical
findings and the beat positions.

``with_findings`` completes the ``DiagnosisResult`` the worker is about to store: the verdict and
critical findings of its statements, measurements and quality (``interpretation.summary``, as the
diagnosis event v3 carries them) and the beats the measurements found. The sink writes them with
the row; the event is built from the row as stored (``interpretation.summary.stored_summary``), and
the gateway reads them instead of recomputing the summary or measuring the samples again.
"""

from __future__ import annotations

from dataclasses import replace

from interpretation.summary import clinical_summary
from storage.results import DiagnosisResult
from stream_processor.analysis import RecordingOutcome

__all__ = ["with_findings"]


def with_findings(result: DiagnosisResult, outcome: RecordingOutcome) -> DiagnosisResult:
    """``result`` with its verdict, critical findings and ``outcome``'s beat positions."""
    summary = clinical_summary(
        result.statements, result.measurements, readable=result.readable,
        unreadable_reasons=result.unreadable_reasons, quality=result.quality,
    ).as_json()  # fmt: skip
    beats = None if outcome.beats is None else outcome.beats.as_record()
    return replace(
        result, verdict=summary["verdict"], critical_findings=summary["critical_findings"], beats=beats
    )
