"""The in-memory form of one normalised 12-lead recording, shared by producers and the worker.

Contract: ``signal`` is a (12, N) float32 array in millivolts, leads in the order
I II III aVR aVL aVF V1 V2 V3 V4 V5 V6, sampled at ``fs`` Hz. Demographics are optional.
``vendor`` (the file's own measurements and statements, ``schemas.vendor``) lives only in memory:
the recordings event does not carry it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import numpy as np

from schemas.vendor import VendorReport

__all__ = ["STANDARD_LEADS", "Recording", "Sex", "new_recording_id"]

STANDARD_LEADS: tuple[str, ...] = (
    "I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6",
)  # fmt: skip

Sex = Literal["M", "F"]


def new_recording_id() -> str:
    """A fresh globally unique recording id (UUID4 text)."""
    return str(uuid.uuid4())


@dataclass
class Recording:
    """One 12-lead recording in mV with its demographics and provenance."""

    signal: np.ndarray  # (12, N) float32, mV
    fs: float  # Hz
    leads: tuple[str, ...] = STANDARD_LEADS
    recording_id: str = field(default_factory=new_recording_id)
    age: int | None = None
    sex: Sex | None = None
    height_cm: float | None = None
    weight_kg: float | None = None
    patient_ref: str | None = None  # clear-text patient reference; hashed before storage, never logged
    device_id: str | None = None
    acquired_at: datetime | None = None
    source: str | None = None  # file name or gateway the recording came from (no patient data)
    vendor: VendorReport | None = None  # the acquiring system's own measurements/statements (not on the wire)

    @property
    def n_samples(self) -> int:
        return int(self.signal.shape[-1])

    @property
    def duration_s(self) -> float:
        return self.n_samples / float(self.fs)
