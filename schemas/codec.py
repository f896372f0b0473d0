"""Encode and decode any event type: Avro schemaless binary + CloudEvents headers.

Decoding checks the headers (type, content type, schema version) and resolves the writer schema of
the version in ``ce_schemaversion`` into the newest reader schema. Every failure is a ``SchemaError``
(``UnknownSchemaVersion`` for a version this code does not know); no other exception escapes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastavro import schemaless_reader, schemaless_writer

from schemas import registry
from schemas.errors import SchemaError, UnknownSchemaVersion
from schemas.headers import CONTENT_TYPE, build_headers, header_map

__all__ = ["EncodedEvent", "encode_event", "decode_event", "schema_version_of"]


@dataclass(frozen=True)
class EncodedEvent:
    """What goes to Kafka: key, value and headers."""

    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


def encode_event(
    event_type: str,
    record: dict[str, Any],
    *,
    key: bytes | None,
    source: str,
    time: datetime | None = None,
    version: int | None = None,
) -> EncodedEvent:
    """Avro-encode ``record`` with the current (or given) writer schema of ``event_type``."""
    version = registry.CURRENT_WRITE_VERSION[event_type] if version is None else version
    buffer = io.BytesIO()
    schemaless_writer(buffer, registry.writer_schema(event_type, version), record)
    headers = build_headers(event_type, version, source=source, time=time or datetime.now(UTC))
    return EncodedEvent(key=key, value=buffer.getvalue(), headers=headers)


def schema_version_of(headers: Sequence[tuple[str, bytes]] | None, event_type: str) -> int:
    """The writer schema version the headers announce for ``event_type``."""
    meta = header_map(headers)
    if not meta:
        raise SchemaError(
            "the message has no headers (expected CloudEvents ce_* headers)", reason="bad_headers"
        )
    found_type = meta.get("ce_type")
    if found_type != event_type:
        raise SchemaError(f"ce_type is {found_type!r}, expected {event_type!r}", reason="wrong_event_type")
    content_type = meta.get("content-type", CONTENT_TYPE)
    if content_type.split(";")[0].strip() != CONTENT_TYPE:
        raise SchemaError(f"content-type {content_type!r} is not {CONTENT_TYPE}", reason="bad_headers")
    text = meta.get("ce_schemaversion")
    if text is None:
        raise SchemaError("ce_schemaversion header is missing", reason="bad_headers")
    try:
        version = int(text)
    except ValueError as exc:
        raise SchemaError(f"ce_schemaversion {text!r} is not an integer", reason="bad_headers") from exc
    if version not in registry.known_versions(event_type):
        raise UnknownSchemaVersion(
            f"{event_type} schema version {version} is unknown here (known: "
            f"{', '.join(map(str, registry.known_versions(event_type)))})"
        )
    return version


def decode_event(
    value: bytes, headers: Sequence[tuple[str, bytes]] | None, event_type: str
) -> dict[str, Any]:
    """The record of an event, resolved into the newest reader schema of ``event_type``."""
    version = schema_version_of(headers, event_type)
    if not isinstance(value, bytes | bytearray | memoryview):
        raise SchemaError("message value is not bytes", reason="undecodable")
    data = bytes(value)
    buffer = io.BytesIO(data)
    try:
        record = schemaless_reader(
            buffer,
            registry.writer_schema(event_type, version),
            registry.reader_schema(event_type),
        )
    except Exception as exc:  # fastavro raises many types on corrupt input; all mean "undecodable"
        raise SchemaError(f"{event_type} v{version} value is not valid Avro: {type(exc).__name__}") from exc
    if buffer.tell() != len(data):
        raise SchemaError(
            f"{event_type} v{version} value has {len(data) - buffer.tell()} trailing bytes",
            reason="undecodable",
        )
    if not isinstance(record, dict):
        raise SchemaError(f"{event_type} value did not decode to a record")
    return record
