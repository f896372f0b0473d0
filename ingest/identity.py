"""Deterministic recording ids for files that carry no globally unique id of their own.

Re-publishing the same file gives the same id (the worker's idempotent sink then ignores the
duplicate), and two different files never share one, even with the same name. Files with their own
ids keep them: DICOM ``SOPInstanceUID``, the aECG document id, SPH ``ECG_ID``.
"""

from __future__ import annotations

import hashlib
import uuid

import numpy as np

__all__ = ["content_recording_id", "ECGSTREAM_NAMESPACE"]

ECGSTREAM_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:ecgstream:recording")


def content_recording_id(kind: str, name: str, signal: np.ndarray, fs: float) -> str:
    """A UUID5 of the format, file stem, sampling rate and signal bytes."""
    digest = hashlib.sha256(np.ascontiguousarray(signal, dtype=np.float32).tobytes()).hexdigest()
    return str(uuid.uuid5(ECGSTREAM_NAMESPACE, f"{kind}:{name}:{float(fs):g}:{digest}"))
