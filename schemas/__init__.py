"""The contract between producers and the worker: events, their Avro schemas, validation."""

from schemas.errors import EcgstreamError, InvalidRecording, SchemaError, UnknownSchemaVersion, UnsupportedFormat
from schemas.recording import STANDARD_LEADS, Recording, new_recording_id

__all__ = [
    "STANDARD_LEADS",
    "Recording",
    "new_recording_id",
    "EcgstreamError",
    "InvalidRecording",
    "UnsupportedFormat",
    "SchemaError",
    "UnknownSchemaVersion",
]
