"""Instants as FHIR ``instant``/``dateTime`` text and HL7 v2 ``DTM`` text (always UTC, aware)."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["fhir_instant", "hl7_timestamp"]


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def fhir_instant(moment: datetime) -> str:
    """``2026-01-01T08:30:00.000Z`` (naive datetimes are taken as UTC)."""
    return _utc(moment).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def hl7_timestamp(moment: datetime) -> str:
    """``20260101083000+0000`` (HL7 v2.5.1 DTM to the second, with the UTC offset)."""
    return _utc(moment).strftime("%Y%m%d%H%M%S+0000")
