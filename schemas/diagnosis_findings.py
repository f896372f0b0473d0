"""Measurements and signal quality as they travel in the diagnosis event (version 2).

Plain data mirroring the Avro records ``Measurements`` and ``Quality`` of ``diagnosis.v2.avsc``:
``as_record()`` gives the Avro/JSON dict (the same shape is stored in the database and returned by
the gateway API), ``from_record()`` reads it back. Units: ms, bpm, degrees, mV; ``None`` = not
measured, with the reason in ``missing``. Nothing here computes a measurement: see ``measurements``.

The measurement names are written once, as the fields of ``EventMeasurements``: ``from_record``
reads every field by its name (numbers through ``finite_or_none``, the few structured fields by
their own reader), and the worker builds the record from ``measurements.Measurements`` by the same
names (``stream_processor.analysis.event_measurements``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

__all__ = ["LeadMeasurement", "EventMeasurements", "LeadQualityRecord", "EventQuality", "finite_or_none"]


def finite_or_none(value: float | None) -> float | None:
    """A plain float, or None for None / NaN / infinity (JSON and the database take no NaN)."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class LeadMeasurement:
    lead: str
    qrs_amplitude_mv: float | None = None
    st_j60_mv: float | None = None


@dataclass(frozen=True)
class EventMeasurements:
    """Global measurements of one recording (see ``measurements.types.Measurements``)."""

    heart_rate_bpm: float | None = None
    rr_mean_ms: float | None = None
    rr_sd_ms: float | None = None
    pr_ms: float | None = None
    qrs_ms: float | None = None
    qt_ms: float | None = None
    qtc_bazett_ms: float | None = None
    qtc_fridericia_ms: float | None = None
    p_axis_deg: float | None = None
    qrs_axis_deg: float | None = None
    t_axis_deg: float | None = None
    beats: dict[str, int] = field(default_factory=dict)  # class (N S V Q) -> count
    leads: list[LeadMeasurement] = field(default_factory=list)
    sokolow_lyon_mv: float | None = None
    cornell_mv: float | None = None
    missing: dict[str, str] = field(default_factory=dict)  # field name -> reason code
    # v3: heart_rate_bpm is the ventricular rate; the atrial (sinus) rate, the measured rhythm, whether
    # the lead groups agree on the beats, and the leads left out as unreadable.
    atrial_rate_bpm: float | None = None
    rhythm: str | None = None
    rate_confirmed: bool | None = None
    excluded_leads: list[str] = field(default_factory=list)

    def as_record(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> EventMeasurements:
        """Every field read by its name from ``record`` (a stored or decoded record, or the worker's
        measurements by the same names); absent names take the empty value."""
        return cls(**{f.name: _READERS.get(f.name, finite_or_none)(record.get(f.name)) for f in fields(cls)})


def _leads(value: Any) -> list[LeadMeasurement]:
    return [
        LeadMeasurement(
            str(lead["lead"]),
            finite_or_none(lead.get("qrs_amplitude_mv")),
            finite_or_none(lead.get("st_j60_mv")),
        )
        for lead in value or []
    ]


# the structured fields of EventMeasurements; every other field is a number read by finite_or_none
_READERS: dict[str, Callable[[Any], Any]] = {
    "beats": lambda value: {str(k): int(v) for k, v in (value or {}).items()},
    "leads": _leads,
    "missing": lambda value: {str(k): str(v) for k, v in (value or {}).items()},
    "rhythm": lambda value: None if value is None else str(value),
    "rate_confirmed": lambda value: None if value is None else bool(value),
    "excluded_leads": lambda value: [str(lead) for lead in value or []],
}


@dataclass(frozen=True)
class LeadQualityRecord:
    lead: str
    verdict: str  # good, acceptable, unreadable
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class EventQuality:
    """Signal quality of one recording (see ``measurements.types.QualityReport``)."""

    verdict: str  # good, acceptable, unreadable
    leads: list[LeadQualityRecord] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # recording-level reason codes

    def as_record(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> EventQuality:
        return cls(
            verdict=str(record["verdict"]),
            leads=[
                LeadQualityRecord(
                    str(q["lead"]), str(q["verdict"]), [str(p) for p in q.get("problems") or []]
                )
                for q in record.get("leads") or []
            ],
            problems=[str(p) for p in record.get("problems") or []],
        )
