"""Kafka headers of every event, in CloudEvents 1.0 Kafka binary-mode form.

| header | example | meaning |
|---|---|---|
| ``ce_specversion`` | ``1.0`` | CloudEvents version |
| ``ce_id`` | ``6f1c...`` | unique id of this event (UUID) |
| ``ce_source`` | ``ecgstream`` | producer (URI-reference: a gateway or device name) |
| ``ce_type`` | ``org.ecgstream.recording`` | event type |
| ``ce_time`` | ``2026-11-25T03:15:41.123456Z`` | when the event was produced (RFC 3339, UTC) |
| ``ce_schemaversion`` | ``1`` | version of the Avro writer schema (CloudEvents extension) |
| ``ce_dataschema`` | ``urn:ecgstream:schema:org.ecgstream.recording:1`` | the same, as a URI |
| ``content-type`` | ``application/avro`` | value = schemaless Avro binary (no container, no prefix) |

Header values are UTF-8 text.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from schemas.errors import SchemaError

__all__ = [
    "CONTENT_TYPE",
    "SPEC_VERSION",
    "build_headers",
    "header_map",
    "format_time",
    "parse_time",
    "event_time",
]

CONTENT_TYPE = "application/avro"
SPEC_VERSION = "1.0"


def format_time(moment: datetime) -> str:
    """RFC 3339 UTC text with microseconds (``...Z``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    """Parse RFC 3339 text into an aware UTC datetime; SchemaError when malformed."""
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise SchemaError(f"malformed time {text!r} in headers", reason="bad_headers") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def build_headers(event_type: str, version: int, *, source: str, time: datetime) -> list[tuple[str, bytes]]:
    """The header list of one event."""
    pairs = [
        ("ce_specversion", SPEC_VERSION),
        ("ce_id", str(uuid.uuid4())),
        ("ce_source", source),
        ("ce_type", event_type),
        ("ce_time", format_time(time)),
        ("ce_schemaversion", str(version)),
        ("ce_dataschema", f"urn:ecgstream:schema:{event_type}:{version}"),
        ("content-type", CONTENT_TYPE),
    ]
    return [(name, value.encode("utf-8")) for name, value in pairs]


def header_map(headers: Sequence[tuple[str, bytes]] | None) -> dict[str, str]:
    """Headers as text (last value wins); SchemaError when they are not (str, bytes) pairs of UTF-8."""
    result: dict[str, str] = {}
    try:
        for name, value in headers or ():
            if isinstance(value, str):
                result[str(name)] = value
            else:
                result[str(name)] = bytes(value).decode("utf-8")
    except (TypeError, ValueError) as exc:
        raise SchemaError(
            "malformed Kafka headers (expected UTF-8 (name, value) pairs)", reason="bad_headers"
        ) from exc
    return result


def event_time(headers: Sequence[tuple[str, bytes]] | None) -> datetime | None:
    """``ce_time`` of an event, or None when absent or malformed."""
    text = header_map(headers).get("ce_time")
    if not text:
        return None
    try:
        return parse_time(text)
    except SchemaError:
        return None
