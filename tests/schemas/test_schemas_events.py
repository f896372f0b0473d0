"""Round trips, version compatibility and header handling of the three events."""

from __future__ import annotations

import hashlib
import hmac
import io
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

import schemas
from core.sizes import DEFAULT_MAX_RECORDING_BYTES
from schemas import (
    DeadLetter,
    DiagnosisEvent,
    Recording,
    SchemaError,
    Statement,
    UnknownSchemaVersion,
    decode_dead_letter,
    decode_diagnosis,
    decode_recording,
    encode_dead_letter,
    encode_diagnosis,
    encode_recording,
    recording_ingested_at,
    registry,
)
from schemas.codec import encode_event
from schemas.headers import header_map


def make_recording(seconds: float = 10, fs: float = 500, **kwargs) -> Recording:
    rng = np.random.default_rng(7)
    n = int(seconds * fs)
    t = np.arange(n) / fs
    signal = (
        np.sin(2 * np.pi * 1.2 * t)[None, :] * rng.uniform(0.3, 2.5, (12, 1)) + rng.normal(0, 0.05, (12, n))
    ).astype(np.float32)
    return Recording(signal=signal, fs=fs, **kwargs)


def test_public_api_names() -> None:
    assert set(schemas.__all__) == {
        "STANDARD_LEADS", "Recording", "new_recording_id", "InvalidRecording",
        "UnsupportedFormat", "SchemaError", "UnknownSchemaVersion", "EncodedEvent", "encode_recording",
        "decode_recording", "recording_ingested_at", "recording_key", "Statement", "DiagnosisEvent",
        "encode_diagnosis", "decode_diagnosis", "EventMeasurements", "EventQuality", "LeadMeasurement",
        "LeadQualityRecord", "DeadLetter", "encode_dead_letter", "decode_dead_letter",
        "validate_recording", "OverreadEvent", "OverreadStatement", "encode_overread", "decode_overread",
    }  # fmt: skip
    for name in schemas.__all__:
        assert hasattr(schemas, name)


def test_recording_round_trip_keeps_signal_within_half_a_microvolt() -> None:
    rec = make_recording(
        device_id="cart-7",
        age=64,
        sex="F",
        height_cm=170.5,
        weight_kg=61.0,
        acquired_at=datetime(2026, 3, 1, 12, 30, tzinfo=UTC),
        source="a.h5",
    )
    rec.signal[3] *= 40.0  # a lead above 32.767 mV uses a gain below 1000 counts/mV
    event = encode_recording(rec, source="test-suite")
    back = decode_recording(event.value, event.headers)
    assert back.signal.dtype == np.float32 and back.signal.shape == rec.signal.shape
    err = np.abs(back.signal - rec.signal).max(axis=1)
    assert err[[0, 1, 2, 4]].max() <= 0.0005 + 1e-6  # 1000 counts/mV: within 0.5 µV
    assert np.abs(rec.signal[3]).max() > 32.767
    assert err[3] <= 0.5 * np.abs(rec.signal[3]).max() / 32767 + 1e-5
    for name in (
        "recording_id",
        "device_id",
        "age",
        "sex",
        "height_cm",
        "weight_kg",
        "acquired_at",
        "source",
        "leads",
        "fs",
    ):
        assert getattr(back, name) == getattr(rec, name), name


def test_sizes_fit_the_limits() -> None:
    assert len(encode_recording(make_recording(60, 500)).value) <= 721_000
    assert len(encode_recording(make_recording(60, 2000)).value) <= DEFAULT_MAX_RECORDING_BYTES


def test_headers_are_cloudevents_binary_mode() -> None:
    moment = datetime(2026, 11, 25, 3, 0, 0, 123456, tzinfo=UTC)
    event = encode_recording(make_recording(), source="cart-gw", ingested_at=moment)
    meta = header_map(event.headers)
    assert all(isinstance(k, str) and isinstance(v, bytes) for k, v in event.headers)
    assert meta["ce_specversion"] == "1.0"
    assert meta["ce_type"] == "org.ecgstream.recording"
    assert meta["ce_source"] == "cart-gw"
    assert meta["ce_schemaversion"] == "1"
    assert meta["ce_dataschema"] == "urn:ecgstream:schema:org.ecgstream.recording:1"
    assert meta["content-type"] == "application/avro"
    assert meta["ce_time"] == "2026-11-25T03:00:00.123456Z"
    assert len(meta["ce_id"]) == 36
    assert recording_ingested_at(event.headers) == moment
    assert recording_ingested_at([]) is None


def test_key_hashes_the_patient_and_falls_back_to_device_then_recording() -> None:
    secret = "a-test-secret"
    with_patient = encode_recording(make_recording(patient_ref="MRN-123456", device_id="cart-1"), key_secret=secret)
    assert b"MRN-123456" not in with_patient.key and b"MRN-123456" not in b"".join(
        v for _, v in with_patient.headers
    )
    assert with_patient.key == encode_recording(make_recording(patient_ref="MRN-123456"), key_secret=secret).key
    assert encode_recording(make_recording(device_id="cart-1")).key == b"device:cart-1"
    rec = make_recording()
    assert encode_recording(rec).key == f"recording:{rec.recording_id}".encode()


def test_patient_key_is_keyed_with_the_secret_never_a_plain_hash() -> None:
    """Issue 10, finding 7: an unkeyed SHA-256 of a short MRN is brute-forced in seconds."""
    plain = hashlib.sha256(b"MRN-123456").hexdigest().encode()
    keyed = encode_recording(make_recording(patient_ref="MRN-123456"), key_secret="a-test-secret").key
    assert keyed == b"patient:" + hmac.new(b"a-test-secret", b"MRN-123456", hashlib.sha256).hexdigest().encode()
    assert plain not in keyed
    other = encode_recording(make_recording(patient_ref="MRN-123456"), key_secret="another-secret").key
    assert other != keyed
    no_secret = encode_recording(make_recording(patient_ref="MRN-123456", device_id="cart-1")).key
    assert no_secret == b"device:cart-1"  # without the secret the reference is not used at all


def test_leads_in_another_order_are_reordered() -> None:
    rec = make_recording()
    order = list(range(12))[::-1]
    shuffled = Recording(signal=rec.signal[order], fs=rec.fs, leads=tuple(rec.leads[i] for i in order))
    back = decode_recording(*_vh(encode_recording(shuffled)))
    assert back.leads == schemas.STANDARD_LEADS
    np.testing.assert_allclose(back.signal, rec.signal, atol=6e-4)


def _vh(event):
    return event.value, event.headers


def test_v1_bytes_are_read_by_the_v2_reader() -> None:
    assert registry.known_versions("org.ecgstream.recording") == (1, 2)
    rec = make_recording(device_id="d")
    v1 = encode_recording(rec)
    assert header_map(v1.headers)["ce_schemaversion"] == "1"
    from fastavro import schemaless_reader

    record = schemaless_reader(
        io.BytesIO(v1.value),
        registry.writer_schema("org.ecgstream.recording", 1),
        registry.reader_schema("org.ecgstream.recording"),
    )
    assert record["site_id"] is None  # the v2 field takes its default
    assert decode_recording(*_vh(v1)).device_id == "d"


def test_v2_bytes_decode_too() -> None:
    rec = make_recording()
    v1_record = _record_of(rec)
    v2 = encode_event(
        "org.ecgstream.recording", {**v1_record, "site_id": "north"}, key=None, source="t", version=2
    )
    assert header_map(v2.headers)["ce_schemaversion"] == "2"
    assert decode_recording(*_vh(v2)).recording_id == rec.recording_id


def _record_of(rec: Recording) -> dict:
    from fastavro import schemaless_reader

    event = encode_recording(rec)
    return schemaless_reader(
        io.BytesIO(event.value), registry.writer_schema("org.ecgstream.recording", 1), None
    )


def _assert_only_adds_fields(old: object, new: object, where: str) -> None:
    """``new`` equals ``old`` except that records (top level or nested) may add fields with defaults."""
    kind = old.get("type") if isinstance(old, dict) else None
    if kind == "record" and isinstance(new, dict) and new.get("type") == "record":
        assert new["name"] == old["name"], f"{where}: record names never change"
        old_fields = {f["name"]: f for f in old["fields"]}
        new_fields = {f["name"]: f for f in new["fields"]}
        assert set(old_fields) <= set(new_fields), f"{where}: fields are never removed"
        for name, spec in new_fields.items():
            if name in old_fields:
                _assert_only_adds_fields(old_fields[name]["type"], spec["type"], f"{where}.{name}")
            else:
                assert "default" in spec, f"{where}.{name}: a new field needs a default"
    elif kind == "array" and isinstance(new, dict) and new.get("type") == "array":
        _assert_only_adds_fields(old["items"], new["items"], f"{where}[]")  # type: ignore[index]
    elif isinstance(old, list) and isinstance(new, list):
        # A union keeps its branches in order; a record branch may add fields with defaults.
        assert len(new) == len(old), f"{where}: union branches never change"
        for k, (o, n) in enumerate(zip(old, new, strict=True)):
            _assert_only_adds_fields(o, n, f"{where}|{k}")
    elif isinstance(old, dict) and isinstance(new, dict) and "doc" in new:
        # Documentation is not part of the type.
        _assert_only_adds_fields({k: v for k, v in old.items() if k != "doc"},
                                 {k: v for k, v in new.items() if k != "doc"}, where)  # fmt: skip
    else:
        assert new == old, f"{where}: types never change"


@pytest.mark.parametrize("event_type", sorted(registry.EVENT_TYPES))
def test_every_newer_version_only_adds_fields_with_defaults(event_type: str) -> None:
    """The compatibility rule of schemas/README.md, checked for every consecutive pair of versions,
    nested records included (a record inside an array may add fields with defaults too)."""
    versions = registry.known_versions(event_type)
    for old, new in zip(versions, versions[1:], strict=False):
        _assert_only_adds_fields(registry.raw_schema(event_type, old), registry.raw_schema(event_type, new), "")


def test_compatibility_check_catches_a_changed_nested_type() -> None:
    old = registry.raw_schema("org.ecgstream.diagnosis", 1)
    new = registry.raw_schema("org.ecgstream.diagnosis", 2)
    new["fields"][2]["type"]["items"]["fields"][2]["type"] = ["null", "double"]  # Statement.probability
    with pytest.raises(AssertionError, match="types never change"):
        _assert_only_adds_fields(old, new, "")
    dropped = registry.raw_schema("org.ecgstream.diagnosis", 2)
    del dropped["fields"][2]["type"]["items"]["fields"][3]["default"]  # Statement.provenance
    with pytest.raises(AssertionError, match="needs a default"):
        _assert_only_adds_fields(old, dropped, "")


def test_unknown_version_is_rejected() -> None:
    event = encode_recording(make_recording())
    headers = [(k, b"99" if k == "ce_schemaversion" else v) for k, v in event.headers]
    with pytest.raises(UnknownSchemaVersion, match="99"):
        decode_recording(event.value, headers)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda h: [],
        lambda h: [(k, v) for k, v in h if k != "ce_schemaversion"],
        lambda h: [(k, b"org.ecgstream.diagnosis" if k == "ce_type" else v) for k, v in h],
        lambda h: [(k, b"application/json" if k == "content-type" else v) for k, v in h],
        lambda h: [(k, b"one" if k == "ce_schemaversion" else v) for k, v in h],
        lambda h: [(k, b"\xff\xfe" if k == "ce_type" else v) for k, v in h],
    ],
    ids=["no-headers", "no-version", "wrong-type", "wrong-content-type", "bad-version", "not-utf8"],
)
def test_bad_headers_raise_schema_error(mutate) -> None:
    event = encode_recording(make_recording())
    with pytest.raises(SchemaError):
        decode_recording(event.value, mutate(event.headers))


def test_garbage_and_truncated_values_raise_schema_error() -> None:
    event = encode_recording(make_recording())
    for value in (
        b"",
        b"garbage",
        event.value[:-1],
        event.value[: len(event.value) // 2],
        event.value + b"\0",
    ):
        with pytest.raises(SchemaError):
            decode_recording(value, event.headers)


def test_diagnosis_round_trip() -> None:
    now = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    event = DiagnosisEvent(
        recording_id="r1", model_version="cae-1.0",
        statements=[Statement(21, "Sinus tachycardia", 0.91)],
        probabilities={"1": 0.05, "21": 0.91},
        device_id="cart", acquired_at=now - timedelta(minutes=5), ingested_at=now - timedelta(seconds=2),
        diagnosed_at=now, latency_seconds=2.0, source_partition=3, source_offset=42,
    )  # fmt: skip
    encoded = encode_diagnosis(event)
    assert encoded.key == b"r1"
    assert header_map(encoded.headers)["ce_type"] == "org.ecgstream.diagnosis"
    assert decode_diagnosis(encoded.value, encoded.headers) == event
    with pytest.raises(SchemaError):
        decode_recording(encoded.value, encoded.headers)  # a diagnosis is not a recording


def test_dead_letter_round_trip() -> None:
    original = encode_recording(make_recording())
    dl = DeadLetter(
        reason="flat_signal",
        message="flat leads: V1",
        source_topic="ecg.recordings.v1",
        source_partition=1,
        source_offset=7,
        original_value=original.value,
        original_headers=original.headers,
        failed_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    encoded = encode_dead_letter(dl)
    back = decode_dead_letter(encoded.value, encoded.headers)
    assert back == dl
    assert decode_recording(back.original_value, back.original_headers).n_samples == 5000
