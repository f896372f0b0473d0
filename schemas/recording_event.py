"""The recordings event: ``Recording`` <-> Kafka message (see ``schemas/README.md``).

The Kafka key keeps one patient's or device's recordings in order on one partition: the keyed hash
(HMAC-SHA256 under PATIENT_HMAC_SECRET, ``schemas.pseudonym``) of the patient reference when the
producer has the secret, else the device id, else the recording id. Never the clear reference, and
never an unkeyed hash of it (short MRNs would be brute-forced). The publish time travels as ``ce_time`` (header) and ``ingested_at`` (body); the decoded
``Recording`` has no field for it, so read it with ``recording_ingested_at(headers)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from schemas.codec import EncodedEvent, decode_event, encode_event
from schemas.errors import SchemaError
from schemas.headers import event_time
from schemas.pseudonym import patient_pseudonym
from schemas.recording import STANDARD_LEADS, Recording
from schemas.signal_codec import dequantise, quantise

__all__ = [
    "RECORDING_EVENT_TYPE",
    "encode_recording",
    "decode_recording",
    "recording_ingested_at",
    "recording_key",
    "to_utc",
]

RECORDING_EVENT_TYPE = "org.ecgstream.recording"


def to_utc(moment: datetime | None) -> datetime | None:
    """An aware UTC datetime; naive datetimes are taken to be UTC."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def recording_key(rec: Recording, secret: str | None = None) -> bytes:
    """Partitioning key: HMAC-SHA256(secret, patient_ref) hex, else device id, else recording id (UTF-8).

    Without ``secret`` the patient reference is not used at all.
    """
    if rec.patient_ref and secret:
        return ("patient:" + patient_pseudonym(rec.patient_ref, secret)).encode("ascii")
    if rec.device_id:
        return ("device:" + rec.device_id).encode("utf-8")
    return ("recording:" + rec.recording_id).encode("utf-8")


def encode_recording(
    rec: Recording, *, source: str = "ecgstream", ingested_at: datetime | None = None, key_secret: str | None = None
) -> EncodedEvent:
    """The Kafka message of ``rec`` (int16 counts + per-lead gains); ``ingested_at`` defaults to now.

    ``key_secret`` (PATIENT_HMAC_SECRET) keys the message by the patient's pseudonym; see ``recording_key``.
    """
    samples, gains = quantise(rec.signal)
    now = to_utc(ingested_at) or datetime.now(UTC)
    record: dict[str, Any] = {
        "recording_id": rec.recording_id,
        "device_id": rec.device_id,
        "patient_ref": rec.patient_ref,
        "acquired_at": to_utc(rec.acquired_at),
        "ingested_at": now,
        "sampling_rate_hz": float(rec.fs),
        "n_samples": int(rec.signal.shape[-1]),
        "leads": [str(lead) for lead in rec.leads],
        "units": "mV",
        "gains": gains,
        "samples": samples,
        "age": None if rec.age is None else int(rec.age),
        "sex": rec.sex,
        "height_cm": None if rec.height_cm is None else float(rec.height_cm),
        "weight_kg": None if rec.weight_kg is None else float(rec.weight_kg),
        "source": rec.source,
    }
    return encode_event(RECORDING_EVENT_TYPE, record, key=recording_key(rec, key_secret), source=source, time=now)


def decode_recording(value: bytes, headers: Sequence[tuple[str, bytes]]) -> Recording:
    """The ``Recording`` of a recordings event; SchemaError / UnknownSchemaVersion when undecodable.

    Leads that are a permutation of the standard 12 are reordered to the standard order; anything
    else is returned as sent, for ``validate_recording`` to reject with a precise reason.
    """
    record = decode_event(value, headers, RECORDING_EVENT_TYPE)
    leads = tuple(record["leads"])
    signal = dequantise(record["samples"], record["gains"], len(leads), record["n_samples"], record["units"])
    if leads != STANDARD_LEADS and sorted(leads) == sorted(STANDARD_LEADS):
        order = [leads.index(name) for name in STANDARD_LEADS]
        signal, leads = signal[order], STANDARD_LEADS
    sex = record["sex"]
    if sex not in (None, "M", "F"):
        raise SchemaError(f"sex must be 'M', 'F' or null, got {sex!r}", reason="undecodable")
    return Recording(
        signal=signal,
        fs=float(record["sampling_rate_hz"]),
        leads=leads,
        recording_id=record["recording_id"],
        age=record["age"],
        sex=sex,
        height_cm=record["height_cm"],
        weight_kg=record["weight_kg"],
        patient_ref=record["patient_ref"],
        device_id=record["device_id"],
        acquired_at=to_utc(record["acquired_at"]),
        source=record["source"],
    )


def recording_ingested_at(headers: Sequence[tuple[str, bytes]] | None) -> datetime | None:
    """Publish time of a recordings event (``ce_time`` header, aware UTC), None when absent."""
    return event_time(headers)
