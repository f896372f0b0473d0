"""The overreads event: a physician confirmed, edited or rejected one diagnosis (``ecg.overreads.v1``).

Keyed by recording id, so one recording's versions stay in order on one partition. The event carries
the statements after the overread (``source`` "physician"), the physician's free text and reason,
the reader's user name and ``amends_version``: the earlier confirmed version this one replaces
(None for the first confirmed version). Exports read it as "final" (first confirmed version) or
"amended" (a later one); a rejection confirms nothing. No patient identifier is in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from schemas.codec import EncodedEvent, decode_event, encode_event
from schemas.recording_event import to_utc

__all__ = [
    "OVERREAD_EVENT_TYPE", "OVERREAD_ACTIONS", "OverreadAction", "OverreadStatement", "OverreadEvent",
    "encode_overread", "decode_overread",
]  # fmt: skip

OVERREAD_EVENT_TYPE = "org.ecgstream.overread"
OverreadAction = Literal["confirm", "edit", "reject"]
OVERREAD_ACTIONS: tuple[OverreadAction, ...] = ("confirm", "edit", "reject")


@dataclass(frozen=True)
class OverreadStatement:
    """One statement of the overread interpretation (the shape of ``diagnoses.statements`` items)."""

    code: int
    description: str
    modifies: int | None = None
    source: str = "physician"


@dataclass(frozen=True)
class OverreadEvent:
    recording_id: str
    model_version: str
    version: int
    action: OverreadAction
    statements: list[OverreadStatement]
    reader: str
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    free_text: str | None = None
    reason: str | None = None
    amends_version: int | None = None

    @property
    def confirms(self) -> bool:
        """True for a confirmed interpretation (confirm or edit), False for a rejection."""
        return self.action != "reject"


def encode_overread(event: OverreadEvent, *, source: str = "ecgstream-gateway") -> EncodedEvent:
    """The Kafka message of an overread; key = recording id."""
    at = to_utc(event.at) or datetime.now(UTC)
    record = {
        "recording_id": event.recording_id,
        "model_version": event.model_version,
        "version": int(event.version),
        "action": event.action,
        "statements": [
            {"code": int(s.code), "description": s.description, "modifies": s.modifies, "source": s.source}
            for s in event.statements
        ],
        "free_text": event.free_text,
        "reason": event.reason,
        "reader": event.reader,
        "at": at,
        "amends_version": event.amends_version,
    }
    return encode_event(OVERREAD_EVENT_TYPE, record, key=event.recording_id.encode("utf-8"), source=source, time=at)


def decode_overread(value: bytes, headers: Sequence[tuple[str, bytes]]) -> OverreadEvent:
    """The ``OverreadEvent`` of an overreads event; SchemaError / UnknownSchemaVersion when undecodable."""
    record = decode_event(value, headers, OVERREAD_EVENT_TYPE)
    return OverreadEvent(
        recording_id=record["recording_id"],
        model_version=record["model_version"],
        version=record["version"],
        action=record["action"],
        statements=[OverreadStatement(s["code"], s["description"], s["modifies"], s["source"]) for s in record["statements"]],
        reader=record["reader"],
        at=to_utc(record["at"]) or datetime.now(UTC),
        free_text=record["free_text"],
        reason=record["reason"],
        amends_version=record["amends_version"],
    )
