"""Property tests: any bytes or headers decode to an event or raise SchemaError, nothing else."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import SchemaError, decode_dead_letter, decode_diagnosis, decode_recording, encode_recording
from schemas.headers import build_headers
from tests.schemas.test_schemas_events import make_recording

NOW = datetime(2026, 1, 1, tzinfo=UTC)
HEADERS = {
    decode_recording: build_headers("org.ecgstream.recording", 1, source="t", time=NOW),
    decode_diagnosis: build_headers("org.ecgstream.diagnosis", 1, source="t", time=NOW),
    decode_dead_letter: build_headers("org.ecgstream.deadletter", 1, source="t", time=NOW),
}
VALID = encode_recording(make_recording(seconds=5, fs=100))


@settings(max_examples=200, deadline=None)
@given(value=st.binary(max_size=4096), decoder=st.sampled_from(list(HEADERS)))
def test_random_values(value: bytes, decoder) -> None:
    try:
        decoder(value, HEADERS[decoder])
    except SchemaError:
        pass


@settings(max_examples=100, deadline=None)
@given(cut=st.integers(0, len(VALID.value) - 1))
def test_truncated_recording(cut: int) -> None:
    try:
        decode_recording(VALID.value[:cut], VALID.headers)
    except SchemaError:
        return
    raise AssertionError("a truncated event decoded")


@settings(max_examples=100, deadline=None)
@given(position=st.integers(0, 400), byte=st.integers(0, 255))
def test_corrupted_recording_head(position: int, byte: int) -> None:
    data = bytearray(VALID.value)
    data[position] = byte
    try:
        decode_recording(bytes(data), VALID.headers)
    except SchemaError:
        pass


@settings(max_examples=100, deadline=None)
@given(headers=st.lists(st.tuples(st.text(max_size=20), st.binary(max_size=30)), max_size=10))
def test_random_headers(headers) -> None:
    try:
        decode_recording(VALID.value, headers)
    except SchemaError:
        pass
