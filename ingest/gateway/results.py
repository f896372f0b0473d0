"""A stored diagnosis as the JSON the page and API clients read (no patient data in it)."""

from __future__ import annotations

from typing import Any

from storage import DiagnosisView

__all__ = ["diagnosis_json", "pending_json"]


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(float(value), digits)


def pending_json(recording_id: str) -> dict[str, Any]:
    return {"recording_id": recording_id, "status": "pending"}


def diagnosis_json(view: DiagnosisView) -> dict[str, Any]:
    """Statements (AHA code, name, probability; most probable first), model version and timings."""
    statements: list[dict[str, Any]] = [
        {
            "code": int(item["code"]),
            "name": str(item.get("description", "")),
            "probability": _round(item.get("probability"), 4),
        }
        for item in view.statements
    ]
    statements.sort(key=lambda item: -(item["probability"] or 0.0))
    return {
        "recording_id": view.recording_id,
        "status": "done",
        "model_version": view.model_version,
        "statements": statements,
        "probabilities": {str(item["code"]): item["probability"] for item in statements},
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
