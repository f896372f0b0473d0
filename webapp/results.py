"""A stored diagnosis as the JSON the page and API clients read (no patient data in it)."""

from __future__ import annotations

from typing import Any

from interpretation.summary import stored_summary
from storage import DiagnosisView
from storage.overreads import OverreadRecord

__all__ = ["diagnosis_json", "pending_json", "overread_json", "overread_state_json"]


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


def overread_json(record: OverreadRecord) -> dict[str, Any]:
    """One version of the audit trail."""
    return {
        "version": record.version,
        "action": record.action,
        "by": record.reader_name,
        "at": record.at.isoformat(),
        "statements": [
            {
                "code": int(s["code"]),
                "name": str(s.get("description") or ""),
                "modifies": s.get("modifies"),
                "source": str(s.get("source") or "physician"),
            }
            for s in record.statements
        ],  # fmt: skip
        "free_text": record.free_text,
        "reason": record.reason,
        "model_version": record.model_version,
        "amends_version": record.amends_version,
    }


def overread_state_json(recording_id: str, latest: OverreadRecord | None) -> dict[str, Any]:
    """The result's ``overread``: ``unconfirmed`` (version 0), else ``confirmed`` or ``rejected`` with
    who, when, the confirmed statements and the free text."""
    trail_url = f"/api/recordings/{recording_id}/overreads"
    if latest is None:
        return {
            "status": "unconfirmed",
            "version": 0,
            "by": None,
            "at": None,
            "statements": [],
            "trail_url": trail_url,
        }
    status = "rejected" if latest.action == "reject" else "confirmed"
    return {"status": status, **overread_json(latest), "trail_url": trail_url}


def diagnosis_json(view: DiagnosisView, overread: OverreadRecord | None = None) -> dict[str, Any]:
    """The headline ``verdict`` and ``critical_findings`` (interpretation.verdict / .critical), the
    tracing and report URLs, statements (AHA code, name, probability, provenance, evidence, modified statement, certainty; in the
    worker's order), measurements, signal quality, readability, model version and timings. An unreadable recording has ``readable: false``, its
    ``unreadable_reasons`` and no statements. ``overread``: the physician's latest overread
    (``overread_state_json``: unconfirmed, confirmed or rejected, by whom, when, which statements)."""
    statements = [_statement_json(item) for item in view.statements]  # the worker's order
    summary = stored_summary(view)  # as the worker stored it (and its event carried it)
    verdict = summary.verdict
    return {
        "recording_id": view.recording_id,
        "status": "done",
        "verdict": verdict.text,
        "verdict_detail": verdict.as_json(),
        "critical_findings": [f.as_json() for f in summary.critical_findings],
        "tracing_url": f"/api/recordings/{view.recording_id}/tracing.svg",
        "report_url": f"/api/recordings/{view.recording_id}/report.pdf",
        "overread": overread_state_json(view.recording_id, overread),
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
