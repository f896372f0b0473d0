"""Where the worker found the beats of one recording: stored with its diagnosis, not in the event.

``r_peaks`` are sample indices at ``fs`` (the recording's native rate, as the worker measured it) and
``classes`` one class per beat (``measurements.types.BEAT_CLASSES``: N, S, V, Q). The tracing and the
report mark these beats instead of measuring the samples again. ``as_record()`` gives the JSON the
database keeps (``diagnoses.beats``), ``from_record()`` reads it back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["BeatPositions"]


@dataclass(frozen=True)
class BeatPositions:
    """The beats of one recording: R peaks (samples at ``fs``) and their classes, in time order."""

    fs: float
    r_peaks: list[int] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)

    def as_record(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> BeatPositions:
        return cls(
            float(record["fs"]),
            [int(peak) for peak in record.get("r_peaks") or []],
            [str(kind) for kind in record.get("classes") or []],
        )
