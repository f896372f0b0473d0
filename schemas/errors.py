"""The errors of recordings and events, under the project's root ``core.errors.EcgstreamError``.

EcgstreamError (core.errors)
├── InvalidRecording          a signal or its metadata fails validation (reason code + message)
│   └── UnsupportedFormat     a file whose format no reader knows, or that a reader cannot parse
└── SchemaError               an event that cannot be decoded
    └── UnknownSchemaVersion  an event whose schema version this reader does not know
"""

from __future__ import annotations

from core.errors import EcgstreamError

__all__ = ["InvalidRecording", "UnsupportedFormat", "SchemaError", "UnknownSchemaVersion"]


class InvalidRecording(EcgstreamError):
    """A recording that must not be diagnosed; ``reason`` is a short machine-readable code."""

    reason = "invalid_recording"


class UnsupportedFormat(InvalidRecording):
    reason = "unsupported_format"


class SchemaError(EcgstreamError):
    reason = "undecodable"


class UnknownSchemaVersion(SchemaError):
    reason = "unknown_schema_version"
