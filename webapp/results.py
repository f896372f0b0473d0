"""A stored diagnosis as the JSON the page and API clients read (no patient data in it)."""

from __future__ import annotations

from typing import Any

from interpretation.critical import critical_findings
from interpretation.verdict import headline_verdict
from storage import DiagnosisView

__all__ = ["diagnosis_json", "pending_json"]


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(float(value), digits)


def pending_json(recording_id: str) -> dict[str, Any]:
    return {"recording_id": recording_id, "status": "pending"}


def _statement_json(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": int(item["code"]),
        "name": str(item.get("description", "")),
        "probability": _round(item.get("probability"), 4),
        "provenance": str(item.get("provenance") or "model"),  # rows before provenance: the model's
        "evidence": item.get("evidence"),
        "modifies": item.get("modifies"),
        "certainty": str(item.get("certainty") or "definite"),  # rows before certainty: definite
    }


def diagnosis_json(view: DiagnosisView) -> dict[str, Any]:
    """The headline ``verdict`` and ``critical_findings`` (interpretation.verdict / .critical), the
    tracing and report URLs, statements (AHA code, name, probability, provenance, evidence, modified statement, certainty; in the
    worker's order), measurements, signal quality, readability, model version and timings. An unreadable recording has ``readable: false``, its
    ``unreadable_reasons`` and no statements."""
    statements = [_statement_json(item) for item in view.statements]  # the worker's order
    verdict = headline_verdict(
        view.statements, readable=view.readable, unreadable_reasons=view.unreadable_reasons or (), quality=view.quality
    )
    return {
        "recording_id": view.recording_id,
        "status": "done",
        "verdict": verdict.text,
        "verdict_detail": verdict.as_json(),
        "critical_findings": [f.as_json() for f in critical_findings(view.statements, view.measurements)],
        "tracing_url": f"/api/recordings/{view.recording_id}/tracing.svg",
        "report_url": f"/api/recordings/{view.recording_id}/report.pdf",
        "model_version": view.model_version,
        "readable": view.readable,
        "unreadable_reasons": list(view.unreadable_reasons or []),
        "statements": statements,
        "probabilities": {str(item["code"]): item["probability"] for item in statements},
        "measurements": view.measurements,
        "quality": view.quality,
        "received_at": view.received_at.isoformat(),
        "diagnosed_at": view.diagnosed_at.isoformat(),
        "recording": {
            "sampling_rate_hz": view.sampling_rate_hz,
            "n_samples": view.n_samples,
            "duration_s": _round(view.duration_s, 2),
        },
        "timings": {
            "latency_from_ingest_seconds": _round(view.latency_from_ingest_seconds),
            "latency_from_acquisition_seconds": _round(view.latency_from_acquisition_seconds),
            "queue_wait_seconds": _round(view.queue_wait_seconds),
            "preprocess_seconds": _round(view.preprocess_seconds),
            "inference_seconds": _round(view.inference_seconds),
        },
    }
