"""Same recording id, same recording? The content hash that tells a redelivery from a collision.

A recording id names one recording. The worker sees the same id again after a redelivery (same
content: a no-op that republishes the stored diagnosis) or when two sources picked the same id for
different recordings (SPH file stems repeat across sites): a *conflicting duplicate*, which must not
be dropped silently nor get a diagnosis event that contradicts what was stored. The content hash
covers what the diagnosis depends on: the signal (float32 little-endian mV, as decoded), sampling
rate, leads, age, sex, height, weight and the patient's keyed pseudonym (never the clear reference).
Provenance (device, acquisition and ingest time, source) is left out: it does not change the
recording.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import TypeVar

import numpy as np

from core.errors import EcgstreamError
from schemas.pseudonym import patient_pseudonym
from schemas.recording import Recording
from storage import DiagnosisResult, WriteOutcome
from stream_processor.policy import CONFLICTING_DUPLICATE

__all__ = ["recording_content_sha256", "split_conflicts"]

T = TypeVar("T")


def recording_content_sha256(rec: Recording, patient_secret: str, signal_f32le: bytes | None = None) -> str:
    """SHA-256 (hex) of the recording's signal and demographics; equal for equal recordings.

    ``signal_f32le``: the signal as contiguous little-endian float32 bytes, when the caller already
    has them (saves a copy of the signal per record).
    """
    meta = {
        "fs": float(rec.fs),
        "leads": [str(lead) for lead in rec.leads],
        "shape": list(rec.signal.shape),
        "age": rec.age,
        "sex": rec.sex,
        "height_cm": None if rec.height_cm is None else float(rec.height_cm),
        "weight_kg": None if rec.weight_kg is None else float(rec.weight_kg),
        "patient": patient_pseudonym(rec.patient_ref, patient_secret) if rec.patient_ref else None,
    }
    digest = hashlib.sha256(json.dumps(meta, sort_keys=True).encode("utf-8"))
    digest.update(b"\0")
    if signal_f32le is None:
        signal_f32le = np.ascontiguousarray(rec.signal, dtype="<f4").tobytes()
    digest.update(signal_f32le)
    return digest.hexdigest()


def split_conflicts(
    items: Sequence[T], outcome: WriteOutcome
) -> tuple[list[T], list[DiagnosisResult], list[tuple[T, EcgstreamError]]]:
    """Split a written batch (``items`` aligned with ``outcome.stored``) into the stored ones, their
    diagnoses as stored, and the conflicting duplicates with the error to dead-letter them with."""
    kept: list[T] = []
    stored: list[DiagnosisResult] = []
    conflicts: list[tuple[T, EcgstreamError]] = []
    for item, result in zip(items, outcome.stored, strict=True):
        if result is None:
            conflicts.append((item, EcgstreamError(
                "another recording with different content is already stored under this recording id; "
                "this one was not stored and no diagnosis event was published (give it a unique id)",
                reason=CONFLICTING_DUPLICATE,
            )))  # fmt: skip
            continue
        kept.append(item)
        stored.append(result)
    return kept, stored, conflicts
