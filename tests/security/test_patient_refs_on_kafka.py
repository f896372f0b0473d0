"""Patient references on Kafka (issue 10, finding 7): the recordings key is a keyed hash, and the
dead-letter topic never carries a clear reference, whatever the bad message looked like.

Real parts: the Tansu broker, a fresh Postgres, a worker process, the real Publisher. The topics are
read back raw (key, value and every header) and searched for the clear reference's bytes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac

import numpy as np
import pytest

from ecgstream.stack import LocalStack
from ingest import Publisher
from schemas import EncodedEvent, decode_recording, encode_recording
from stream_processor.redaction import REDACTED_PREFIX
from tests.e2e.helpers import isolated_settings
from tests.faults.harness import _consume, consume_dead_letters, produce, wait_until
from tests.faults.messages import TEST_DEADLETTER_KEY, recovered_original, synthetic_recording, with_header

pytestmark = pytest.mark.integration

CLEAR_REF = "MRN-0042-CLEAR"
SECRET = "security-test-secret-7f3a"
MAX_RECORDING_BYTES = 600_000


def _with_patient(seed: int, **changes: object):  # type: ignore[no-untyped-def]
    return dataclasses.replace(synthetic_recording(seed), patient_ref=CLEAR_REF, **changes)


def _bad_messages() -> dict[str, tuple[str, EncodedEvent]]:
    """name -> (expected reason, message); each one carries the clear reference somewhere."""
    flat = _with_patient(1)
    flat.signal = flat.signal.copy()
    flat.signal[:] = 0.0
    valid = encode_recording(_with_patient(2), key_secret=SECRET)
    big = _with_patient(3, fs=1000.0)
    big.signal = np.tile(big.signal, (1, 6))  # 60 s at 1 kHz: above MAX_RECORDING_BYTES
    return {
        "decodable_invalid": ("flat_signal", encode_recording(flat, key_secret=SECRET)),
        "undecodable_bytes": ("undecodable", EncodedEvent(b"k", b"\x00\xff garbage " + CLEAR_REF.encode() * 3,
                                                          list(valid.headers))),  # fmt: skip
        "unknown_version": ("unknown_schema_version",
                            EncodedEvent(valid.key, valid.value, with_header(valid.headers, "ce_schemaversion", b"99"))),
        "ref_in_a_header": ("wrong_event_type",
                            EncodedEvent(valid.key, valid.value, with_header(valid.headers, "ce_type", CLEAR_REF.encode()))),
        "oversize": ("oversize", encode_recording(big, key_secret=SECRET)),
    }  # fmt: skip


def _raw_records(bootstrap: str, topic: str, expected: int) -> list:  # type: ignore[type-arg]
    return asyncio.run(_consume(bootstrap, topic, lambda rs: len(rs) >= expected, 60, idle_after_done=1.5))


def _bytes_of(record) -> bytes:  # type: ignore[no-untyped-def]
    return b"|".join([record.key or b"", record.value or b"", *(k.encode() + b"=" + (v or b"") for k, v in record.headers or [])])


def test_no_clear_patient_reference_on_the_dead_letter_topic(tansu, fresh_postgres_url, tmp_path, unique_name) -> None:  # type: ignore[no-untyped-def]
    settings = isolated_settings(tansu.bootstrap, fresh_postgres_url, tmp_path / "home", unique_name,
                                 topic_partitions=2, max_recording_bytes=MAX_RECORDING_BYTES,
                                 patient_hmac_secret=SECRET, deadletter_key=TEST_DEADLETTER_KEY)  # fmt: skip
    bad = _bad_messages()
    assert all(CLEAR_REF.encode() in _bytes_of(_Record(m)) for _, m in bad.values()), "each carries the reference"
    with LocalStack(settings, workers=1) as stack:
        stack.wait_ready()
        asyncio.run(produce(stack.bootstrap, settings.recordings_topic, [m for _, m in bad.values()]))
        raw = _raw_records(stack.bootstrap, settings.deadletter_topic, len(bad))
        letters = consume_dead_letters(stack.bootstrap, settings.deadletter_topic, len(bad))

    assert len(raw) == len(bad) and len(letters) == len(bad)
    for record in raw:
        assert CLEAR_REF.encode() not in _bytes_of(record), "clear patient reference on the dead-letter topic"
    assert sorted(dl.reason for dl in letters) == sorted(reason for reason, _ in bad.values())
    by_reason = {dl.reason: dl for dl in letters}
    # a decodable original keeps its bytes with the reference replaced by its keyed hash: still replayable
    redacted = by_reason["flat_signal"]
    rec = decode_recording(redacted.original_value, redacted.original_headers)
    assert rec.patient_ref == REDACTED_PREFIX + hmac.new(SECRET.encode(), CLEAR_REF.encode(), hashlib.sha256).hexdigest()
    # undecodable originals are encrypted: an operator with DEADLETTER_KEY gets them back whole
    for reason in ("undecodable", "unknown_schema_version", "wrong_event_type"):
        name = next(n for n, (r, _) in bad.items() if r == reason)
        value, headers = recovered_original(by_reason[reason])
        assert (value, headers) == (bad[name][1].value, bad[name][1].headers), reason
    value, _ = recovered_original(by_reason["oversize"])
    assert bad["oversize"][1].value.startswith(value) and len(value) == 64 * 1024


class _Record:
    """An EncodedEvent seen like a consumed record (for the "each carries the reference" precondition)."""

    def __init__(self, event: EncodedEvent) -> None:
        self.key, self.value, self.headers = event.key, event.value, event.headers


async def _publish_one(bootstrap: str, topic: str) -> None:
    async with Publisher(bootstrap, topic, patient_key_secret=SECRET) as publisher:
        await publisher.publish(_with_patient(9))


def test_publisher_keys_messages_by_the_keyed_patient_hash(tansu, unique_name) -> None:  # type: ignore[no-untyped-def]
    from core.kafka_admin import ensure_topics

    topic = f"keyed-{unique_name}"
    asyncio.run(ensure_topics(tansu.bootstrap, {topic: 1}, max_message_bytes=2 * 1024 * 1024))
    asyncio.run(_publish_one(tansu.bootstrap, topic))
    (record,) = wait_until(lambda: _raw_records(tansu.bootstrap, topic, 1), 30, "the published recording")
    keyed = hmac.new(SECRET.encode(), CLEAR_REF.encode(), hashlib.sha256).hexdigest()
    assert record.key == f"patient:{keyed}".encode()
    assert hashlib.sha256(CLEAR_REF.encode()).hexdigest().encode() not in record.key  # the old, unkeyed key
    assert CLEAR_REF.encode() not in record.key
