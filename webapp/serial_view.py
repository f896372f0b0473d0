"""The serial comparison of two stored diagnoses as JSON (``interpretation.serial``); pure, no IO."""

from __future__ import annotations

from typing import Any

from interpretation.serial import compare_serial
from interpretation.summary import stored_verdict
from storage import DiagnosisView

__all__ = ["comparison_json"]


def _side(view: DiagnosisView) -> dict[str, Any]:
    return {
        "recording_id": view.recording_id,
        "acquired_at": None if view.acquired_at is None else view.acquired_at.isoformat(),
        "ingested_at": None if view.ingested_at is None else view.ingested_at.isoformat(),
        "diagnosed_at": view.diagnosed_at.isoformat(),
        "verdict": stored_verdict(
            view.verdict,
            view.statements,
            readable=view.readable,
            unreadable_reasons=view.unreadable_reasons,
            quality=view.quality,
        ).text,  # fmt: skip
        "tracing_url": f"/api/recordings/{view.recording_id}/tracing.svg",
        "result_url": f"/?recording={view.recording_id}",
    }


def comparison_json(current: DiagnosisView, previous: DiagnosisView) -> dict[str, Any]:
    """Both recordings (times, headline verdict, links) and what changed from ``previous`` to ``current``."""
    changes = compare_serial(
        previous.statements, current.statements, previous.measurements, current.measurements
    )
    return {"recording_id": current.recording_id, "current": _side(current), "previous": _side(previous),
            **changes.as_json()}  # fmt: skip
