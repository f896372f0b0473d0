"""Deterministic recording ids for files that carry no globally unique id of their own.

Re-publishing the same file gives the same id (the worker's idempotent sink then ignores the
duplicate), and two different files never share one, even with the same name. Files with their own
globally unique ids keep them: DICOM ``SOPInstanceUID``, the aECG document id. SPH ``ECG_ID``s
(``A00001``...) are unique only within one data set, and every site's data set starts at ``A00001``:
their id is the stem scoped by a digest of the content (``A00001-3fa9c0e1d2b4a5f6``), readable and
still the same on every re-read. Ids that collide anyway (another producer) are caught by the worker
as conflicting duplicates (``stream_processor.duplicates``).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["content_recording_id", "scoped_recording_id", "ECGSTREAM_NAMESPACE"]

ECGSTREAM_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:ecgstream:recording")


def _signal_digest(signal: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(signal, dtype=np.float32).tobytes()).hexdigest()


def content_recording_id(kind: str, name: str, signal: np.ndarray, fs: float) -> str:
    """A UUID5 of the format, file stem, sampling rate and signal bytes."""
    return str(uuid.uuid5(ECGSTREAM_NAMESPACE, f"{kind}:{name}:{float(fs):g}:{_signal_digest(signal)}"))


def scoped_recording_id(kind: str, name: str, signal: np.ndarray, fs: float, demographics: Mapping[str, Any]) -> str:
    """``<name>-<16 hex>``: the file's own (locally unique) id scoped by a digest of its content."""
    meta = ",".join(f"{key}={demographics[key]}" for key in sorted(demographics))
    text = f"{kind}:{name}:{float(fs):g}:{meta}:{_signal_digest(signal)}"
    return f"{name}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]}"
