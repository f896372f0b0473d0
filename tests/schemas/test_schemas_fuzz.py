"""Property tests: any bytes or headers decode to an event or raise SchemaError, nothing else."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from schemas import SchemaError, decode_dead_letter, decode_diagnosis, decode_recording, encode_recording
from schemas.headers import build_headers
from schemas.signal_codec import dequantise, quantise
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


@settings(max_examples=60, deadline=None)
@given(
    signal=arrays(np.float32, (12, 50), elements=st.floats(-40, 40, width=32)),
    scale=st.sampled_from([1e-3, 0.1, 1.0, 10.0]),
)
def test_quantisation_error_is_half_a_count(signal, scale) -> None:
    signal = signal * np.float32(scale)
    samples, gains = quantise(signal)
    back = dequantise(samples, gains, 12, 50, "mV")
    for lead in range(12):
        assert gains[lead] <= 1000.0
        assert np.abs(back[lead] - signal[lead]).max() <= 0.5 / gains[lead] + 1e-6 * (
            1 + np.abs(signal[lead]).max()
        )
