"""The project's exception tree. Third-party errors are converted to these at the boundary.

EcgstreamError
├── InvalidRecording          a signal or its metadata fails validation (reason code + message)
│   └── UnsupportedFormat     a file whose format no reader knows, or that a reader cannot parse
└── SchemaError               an event that cannot be decoded
    └── UnknownSchemaVersion  an event whose schema version this reader does not know
"""

from __future__ import annotations

__all__ = ["EcgstreamError", "InvalidRecording", "UnsupportedFormat", "SchemaError", "UnknownSchemaVersion"]


class EcgstreamError(Exception):
    """Base of every error ecgstream raises on purpose."""

    reason: str = "error"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason

    @property
    def message(self) -> str:
        return str(self)


class InvalidRecording(EcgstreamError):
    """A recording that must not be diagnosed; ``reason`` is a short machine-readable code."""

    reason = "invalid_recording"


class UnsupportedFormat(InvalidRecording):
    reason = "unsupported_format"


class SchemaError(EcgstreamError):
    reason = "undecodable"


class UnknownSchemaVersion(SchemaError):
    reason = "unknown_schema_version"
