"""Valid and malformed recordings-topic messages for the batch tests and the fault tests.

Every malformed message comes with the dead-letter ``reason`` the worker must give it. All builders
are deterministic (seeded), so a failure reproduces byte for byte.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from fastavro import schemaless_reader, schemaless_writer

from ingest.synthetic import simulate_ecg
from schemas import DeadLetter, EncodedEvent, Recording, encode_recording, new_recording_id
from schemas.recording_event import RECORDING_EVENT_TYPE
from schemas.registry import writer_schema

__all__ = [
    "assert_carries_original",
    "PoisonMessage",
    "synthetic_recording",
    "synthetic_recordings",
    "copies",
    "recovered_original",
    "TEST_DEADLETTER_KEY",
    "poison_messages",
    "reencode",
    "with_header",
]


def synthetic_recording(seed: int, *, fs: float = 500.0, duration: float = 10.0, hr: float = 72.0) -> Recording:
    """One plausible 12-lead recording in mV (passes ``validate_recording``)."""
    rng = np.random.default_rng(seed)
    signal = simulate_ecg(rng, hr=hr, fs=fs, duration=duration)
    return Recording(
        signal=signal, fs=fs, age=int(rng.integers(20, 90)), sex=str(rng.choice(["M", "F"])),  # type: ignore[arg-type]
        device_id=f"device-{seed % 7}", source="ecgstream-fault-tests", acquired_at=datetime.now(UTC),
    )  # fmt: skip


def synthetic_recordings(n: int, seed: int = 0) -> list[Recording]:
    """``n`` distinct recordings (10 s, 500 Hz) with varied heart rates."""
    rng = np.random.default_rng(seed)
    return [synthetic_recording(seed * 1000 + i, hr=float(rng.uniform(45, 140))) for i in range(n)]


def copies(templates: list[Recording], n: int) -> list[Recording]:
    """``n`` recordings cycling through ``templates``, each with a fresh recording id and device (cheap bulk data)."""
    return [
        dataclasses.replace(templates[i % len(templates)], recording_id=new_recording_id(), device_id=f"device-{i}")
        for i in range(n)
    ]  # one device per copy: the keys spread over every partition


def reencode(event: EncodedEvent, **changes: object) -> EncodedEvent:
    """``event`` with some fields of its Avro record replaced, headers unchanged (a "valid envelope")."""
    schema = writer_schema(RECORDING_EVENT_TYPE, 1)
    record = schemaless_reader(io.BytesIO(event.value), schema, None)
    assert isinstance(record, dict)
    record.update(changes)
    buffer = io.BytesIO()
    schemaless_writer(buffer, schema, record)
    return EncodedEvent(key=event.key, value=buffer.getvalue(), headers=list(event.headers))


def with_header(headers: Iterable[tuple[str, bytes]], name: str, value: bytes) -> list[tuple[str, bytes]]:
    return [(k, value if k == name else v) for k, v in headers]


@dataclass(frozen=True)
class PoisonMessage:
    """A message the worker must dead-letter with ``reason``."""

    name: str
    reason: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


def poison_messages(max_recording_bytes: int, seed: int = 7) -> list[PoisonMessage]:
    """One message per kind of bad input, each with its expected dead-letter reason."""
    rng = np.random.default_rng(seed)
    base = encode_recording(synthetic_recording(seed))
    out: list[PoisonMessage] = []

    def add(name: str, reason: str, event: EncodedEvent) -> None:
        out.append(PoisonMessage(name, reason, event.key, event.value, list(event.headers)))

    garbage = rng.integers(0, 256, 4096, dtype=np.uint8).tobytes()
    # random bytes without any headers (what a foreign producer would send)
    add("random_bytes_no_headers", "bad_headers", EncodedEvent(b"garbage-1", garbage, []))
    # random bytes inside correct CloudEvents headers
    add("random_bytes", "undecodable", EncodedEvent(b"garbage-2", garbage[::-1], list(base.headers)))
    # a valid recording cut in half
    add("truncated_avro", "undecodable", EncodedEvent(base.key, base.value[: len(base.value) // 2], base.headers))
    # a valid body announced as schema version 99
    add(
        "unknown_schema_version",
        "unknown_schema_version",
        EncodedEvent(base.key, base.value, with_header(base.headers, "ce_schemaversion", b"99")),
    )
    # A "NaN signal": the wire format carries int16 counts, which cannot be NaN, so a non-finite signal
    # can only come from the per-lead gains. Both a NaN gain and a gain so small that the samples
    # overflow float32 (to +-inf) are rejected by the decoder (reason ``undecodable``), before validation.
    gains = list(schemaless_reader(io.BytesIO(base.value), writer_schema(RECORDING_EVENT_TYPE, 1), None)["gains"])  # type: ignore[index]
    add("nan_gain", "undecodable", reencode(base, gains=[float("nan")] + gains[1:]))
    add("overflowing_gain", "undecodable", reencode(base, gains=[1e-300] + gains[1:]))
    # every lead flat (all zeros): nothing to diagnose (one flat lead is read around, not refused)
    flat = synthetic_recording(seed + 1)
    flat.signal = np.zeros_like(flat.signal)
    add("flat_lead", "flat_signal", encode_recording(flat))
    # values in µV labelled mV
    micro = synthetic_recording(seed + 2)
    micro.signal = micro.signal * 1000.0
    add("microvolts_as_millivolts", "implausible_amplitude", encode_recording(micro))
    # a 3-second recording
    add("three_seconds", "duration_out_of_range", encode_recording(synthetic_recording(seed + 3, duration=3.0)))
    # 8 leads (the 12-lead contract is broken)
    eight = synthetic_recording(seed + 4)
    eight = dataclasses.replace(eight, signal=eight.signal[[0, 1, 6, 7, 8, 9, 10, 11]], leads=eight.leads[:2] + eight.leads[6:])
    add("eight_leads", "wrong_lead_count", encode_recording(eight))
    # larger than max_recording_bytes (60 s at 1 kHz = 1.44 MB of samples)
    big = encode_recording(synthetic_recording(seed + 5, fs=1000.0, duration=60.0))
    assert len(big.value) > max_recording_bytes, (len(big.value), max_recording_bytes)
    add("oversize", "oversize", big)
    for message in out[:-1]:
        assert len(message.value) <= max_recording_bytes, message.name
    return out


# A fixed AES-256 key for the tests' DEADLETTER_KEY (base64 of 32 bytes): dead letters of undecodable
# messages carry their originals encrypted under it (issue 10, finding 7).
TEST_DEADLETTER_KEY = base64.b64encode(bytes(range(32))).decode("ascii")


def recovered_original(letter: DeadLetter, key: str = TEST_DEADLETTER_KEY) -> tuple[bytes, list[tuple[str, bytes]]]:
    """The original value and headers a dead letter carries: decrypted when they were encrypted."""
    from core.config import parse_deadletter_key
    from stream_processor.redaction import ENCRYPTED_MAGIC, decrypt_original

    if letter.original_value.startswith(ENCRYPTED_MAGIC):
        position = f"{letter.source_topic}[{letter.source_partition}]@{letter.source_offset}"
        aes_key = parse_deadletter_key(key)
        assert aes_key is not None
        recovered = decrypt_original(letter.original_value, aes_key, position)
        return recovered.value, recovered.headers
    return letter.original_value, [(k, bytes(v)) for k, v in letter.original_headers]


def assert_carries_original(
    letter: DeadLetter, value: bytes, max_recording_bytes: int, headers: list[tuple[str, bytes]] | None = None
) -> None:
    """A dead letter carries its original bytes (decrypted with the test key where they were encrypted):
    all of them, or for an oversize original (which need not fit the dead-letter topic) a prefix plus
    the original's size and SHA-256 in the message. ``headers``: the original headers, checked too."""
    got, got_headers = recovered_original(letter)
    if headers is not None:
        assert [(k, bytes(v)) for k, v in got_headers] == [(k, bytes(v)) for k, v in headers]
    if len(value) <= max_recording_bytes or got == value:
        assert got == value, "original bytes, byte for byte"
        return
    assert got and value.startswith(got), "a prefix of the original"
    assert hashlib.sha256(value).hexdigest() in letter.message, letter.message
    assert str(len(value)) in letter.message, letter.message
