"""The samples the gateway keeps of each recording it accepted, for the tracing and the report.

Why here and not ``recordings.signal``: the worker stores its copy only with ``STORE_SIGNAL``
(off by default, a privacy choice for streamed data), while a clinician reviewing an uploaded
recording must see its tracing. The gateway therefore keeps the decoded signal of the recordings
it accepted, and nothing else: recording id, sampling rate, lead names and samples as float16
(little-endian, leads x samples, C order; 1 uV resolution is far below the 0.1 mm pen width at
10 mm/mV). No demographics, no patient reference, no file name. A 10-s 500-Hz 12-lead recording
is 120 kB.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import Float, Integer, LargeBinary, String, Text, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from storage.errors import translate_errors
from storage.models import Base, UtcDateTime

__all__ = ["StoredTracing", "Tracing", "store_tracing", "load_tracing", "MAX_TRACING_LEADS"]

MAX_TRACING_LEADS = 12
_DTYPE = np.dtype("<f2")


class Tracing(Base):
    """One accepted upload's samples (see the module docstring)."""

    __tablename__ = "tracings"

    recording_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sampling_rate_hz: Mapped[float] = mapped_column(Float)
    leads: Mapped[str] = mapped_column(Text)  # space-separated lead names
    n_samples: Mapped[int] = mapped_column(Integer)
    samples_f16: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.current_timestamp())


@dataclass(frozen=True)
class StoredTracing:
    """``signal`` is (n_leads, n_samples) float32 in mV."""

    recording_id: str
    signal: np.ndarray
    fs: float
    leads: tuple[str, ...]


async def store_tracing(
    engine: AsyncEngine, recording_id: str, signal: np.ndarray, fs: float, leads: tuple[str, ...]
) -> None:
    """Keep ``signal`` ((n_leads, n_samples), mV) as float16; raises ``DatabaseUnavailable``."""
    if signal.ndim != 2 or signal.shape[0] != len(leads) or signal.shape[0] > MAX_TRACING_LEADS:
        raise ValueError(f"signal of shape {signal.shape} does not match {len(leads)} leads")
    values = {
        "recording_id": recording_id,
        "sampling_rate_hz": float(fs),
        "leads": " ".join(leads),
        "n_samples": int(signal.shape[1]),
        "samples_f16": np.ascontiguousarray(np.nan_to_num(signal), dtype=_DTYPE).tobytes(),
    }
    with translate_errors("store_tracing"):
        async with engine.begin() as conn:
            await conn.execute(insert(Tracing).values(**values))


async def load_tracing(engine: AsyncEngine, recording_id: str) -> StoredTracing | None:
    """The kept samples of ``recording_id``, or None; raises ``DatabaseUnavailable``."""
    statement = select(Tracing).where(Tracing.recording_id == recording_id)
    with translate_errors("load_tracing"):
        async with engine.connect() as conn:
            row = (await conn.execute(statement)).first()
    if row is None:
        return None
    leads = tuple(row.leads.split())
    flat = np.frombuffer(row.samples_f16, dtype=_DTYPE).astype(np.float32)
    return StoredTracing(row.recording_id, flat.reshape(len(leads), int(row.n_samples)), float(row.sampling_rate_hz), leads)
