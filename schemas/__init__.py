"""The contract between producers and the worker: events, their Avro schemas, validation.

Input contract of every consumer: a ``Recording`` has ``signal`` (12, N) float32 in mV, leads
I II III aVR aVL aVF V1-V6 in that order, native sampling rate ``fs`` (100-2000 Hz), 5-120 s.
On the wire (see ``schemas/README.md``): Avro schemaless binary + CloudEvents Kafka headers.
"""

from schemas.codec import EncodedEvent
from schemas.deadletter_event import DeadLetter, decode_dead_letter, encode_dead_letter
from schemas.diagnosis_event import DiagnosisEvent, Statement, decode_diagnosis, encode_diagnosis
from schemas.diagnosis_findings import EventMeasurements, EventQuality, LeadMeasurement, LeadQualityRecord
from schemas.errors import (
    InvalidRecording,
    SchemaError,
    UnknownSchemaVersion,
    UnsupportedFormat,
)
from schemas.overread_event import OverreadEvent, OverreadStatement, decode_overread, encode_overread
from schemas.recording import STANDARD_LEADS, Recording, new_recording_id
from schemas.recording_event import decode_recording, encode_recording, recording_ingested_at, recording_key
from schemas.validation import validate_recording

__all__ = [
    "STANDARD_LEADS",
    "Recording",
    "new_recording_id",
    "InvalidRecording",
    "UnsupportedFormat",
    "SchemaError",
    "UnknownSchemaVersion",
    "EncodedEvent",
    "encode_recording",
    "decode_recording",
    "recording_ingested_at",
    "recording_key",
    "Statement",
    "DiagnosisEvent",
    "encode_diagnosis",
    "decode_diagnosis",
    "EventMeasurements",
    "EventQuality",
    "LeadMeasurement",
    "LeadQualityRecord",
    "OverreadEvent",
    "OverreadStatement",
    "encode_overread",
    "decode_overread",
    "DeadLetter",
    "encode_dead_letter",
    "decode_dead_letter",
    "validate_recording",
]
