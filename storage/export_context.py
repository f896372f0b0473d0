"""What ``ecgstream export`` needs beside the diagnosis event: the patient's pseudonym and the samples.

The diagnosis event carries neither: the patient reference travels only on the recordings topic
(and only its keyed hash is stored, ``recordings.patient_ref_hash``), and samples are kept only by
the gateway for its uploads (``tracings``) or by the worker with ``STORE_SIGNAL`` (``recordings.signal``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from schemas.recording import STANDARD_LEADS
from storage.errors import translate_errors
from storage.models import Recording
from storage.tracings import load_tracing

__all__ = ["ExportContext", "load_export_context"]


@dataclass(frozen=True)
class ExportContext:
    """``signal`` (n_leads, n_samples) float32 mV at ``fs`` Hz, or None when no samples are kept."""

    patient_ref_hash: str | None = field(repr=False)
    signal: np.ndarray | None = field(default=None, repr=False)
    fs: float | None = None
    leads: tuple[str, ...] = ()


async def load_export_context(engine: AsyncEngine, recording_id: str, *, with_signal: bool = True) -> ExportContext | None:
    """The pseudonym and (``with_signal``) samples of a stored recording; None when it is not stored.

    Samples come from the gateway's tracing when there is one, else from ``recordings.signal``.
    Raises ``DatabaseUnavailable`` (retry) or ``StorageError``.
    """
    columns: list[Any] = [Recording.patient_ref_hash, Recording.sampling_rate_hz, Recording.n_samples]
    if with_signal:
        columns.append(Recording.signal)
    with translate_errors("load_export_context"):
        async with engine.connect() as conn:
            row = (await conn.execute(select(*columns).where(Recording.recording_id == recording_id))).first()
    if row is None:
        return None
    if not with_signal:
        return ExportContext(row.patient_ref_hash)
    tracing = await load_tracing(engine, recording_id)
    if tracing is not None:
        return ExportContext(row.patient_ref_hash, tracing.signal, tracing.fs, tracing.leads)
    if row.signal is not None and len(row.signal) == 4 * len(STANDARD_LEADS) * int(row.n_samples):
        samples = np.frombuffer(row.signal, dtype="<f4").reshape(len(STANDARD_LEADS), int(row.n_samples))
        return ExportContext(row.patient_ref_hash, samples, float(row.sampling_rate_hz), STANDARD_LEADS)
    return ExportContext(row.patient_ref_hash)
