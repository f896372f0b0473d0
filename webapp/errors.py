"""The gateway's client-facing errors: an HTTP status, a reason code and a human message.

Under the project's root ``core.errors.EcgstreamError`` (``message`` is ``str(error)``):

GatewayError                 anything the gateway reports to the client as ``{"error": {...}}``
├── FieldError               a form field is missing or out of range (422, names the field)
├── UploadTooLarge           the request body exceeds the upload limit (413)
├── RequestTimeout           the client did not send the whole body in time (408)
│   └── UploadTimeout        ... of an upload
└── Busy                     too many expensive requests at once (429 per credential, 503 overall; Retry-After)

Recordings the readers reject (``schemas.InvalidRecording``) are mapped by ``status_for``.
"""

from __future__ import annotations

from typing import Any

from core.errors import EcgstreamError
from schemas.errors import InvalidRecording, UnsupportedFormat

__all__ = [
    "GatewayError", "FieldError", "UploadTooLarge", "RequestTimeout", "UploadTimeout", "Busy", "status_for",
    "error_body", "format_size",
]  # fmt: skip


def format_size(size_bytes: int) -> str:
    """The one way sizes are written for people (``16.0 MiB``): error answers and the page use it."""
    return f"{size_bytes / 1024 / 1024:.1f} MiB"


class GatewayError(EcgstreamError):
    """An error whose ``message`` is safe to show to the person who uploaded."""

    def __init__(self, status: int, reason: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.details = details
        self.headers: dict[str, str] = {}


class FieldError(GatewayError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(422, "invalid_field", message, field=field)


class UploadTooLarge(GatewayError):
    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            "upload_too_large",
            f"the upload is larger than the limit of {format_size(limit)}",
            limit_bytes=limit,
        )


class RequestTimeout(GatewayError):
    """The request body did not arrive within ``seconds`` (slow senders hold a connection and a buffer)."""

    def __init__(self, seconds: float, reason: str = "request_timeout", what: str = "the request body") -> None:
        super().__init__(408, reason, f"{what} was not received within {seconds:g} s", limit_seconds=seconds)
        self.headers = {"Connection": "close"}


class UploadTimeout(RequestTimeout):
    def __init__(self, seconds: float) -> None:
        super().__init__(seconds, "upload_timeout", "the upload")


class Busy(GatewayError):
    """Refused for now, not queued: ``Retry-After`` says when to come back."""

    def __init__(self, status: int, reason: str, message: str, retry_after_seconds: int) -> None:
        super().__init__(status, reason, message, retry_after_seconds=retry_after_seconds)
        self.headers = {"Retry-After": str(retry_after_seconds)}


def status_for(exc: InvalidRecording) -> int:
    """415 for files no reader understands, 413 for oversize recordings, else 422."""
    if isinstance(exc, UnsupportedFormat) or exc.reason in {"unsupported_format", "unreadable"}:
        return 415
    if exc.reason == "oversize":
        return 413
    return 422


def error_body(reason: str, message: str, **details: Any) -> dict[str, Any]:
    """The JSON body of every error response."""
    return {"error": {"reason": reason, "message": message, **details}}
