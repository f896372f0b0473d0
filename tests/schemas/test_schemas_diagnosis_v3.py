"""Diagnosis event version 3: certainty, rates, rhythm, verdict and critical findings; v2 bytes still read."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from fastavro import schemaless_reader, schemaless_writer

from schemas import registry
from schemas.codec import encode_event
from schemas.diagnosis_event import DiagnosisEvent, Statement, decode_diagnosis, encode_diagnosis
from schemas.diagnosis_findings import EventMeasurements

TYPE = "org.ecgstream.diagnosis"
T = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def _event() -> DiagnosisEvent:
    return DiagnosisEvent(
        "r1", "cae-1",
        statements=[
            Statement(21, "Sinus tachycardia", 0.94, "both", "HR 112 bpm > 100"),
            Statement(161, "Inferior MI", 0.31, "model", "model p=0.31 >= threshold 0.15", certainty="possible"),
        ],
        probabilities={"21": 0.94, "161": 0.31}, diagnosed_at=T,
        measurements=EventMeasurements(heart_rate_bpm=112.0, atrial_rate_bpm=104.0, rhythm="sinus",
                                       rate_confirmed=True, excluded_leads=["V2"]),
        verdict={"kind": "abnormal", "text": "Abnormal ECG: 1 statement, most important: Sinus tachycardia (and 1 possible)",
                 "abnormal_count": 1, "most_important_code": 21},
        critical_findings=[{"finding": "severe_tachycardia", "title": "Severe tachycardia",
                            "rule": "heart rate > 150 bpm", "evidence": "heart rate 162 bpm"}],
    )  # fmt: skip


def test_v3_round_trip_keeps_certainty_rates_rhythm_verdict_and_findings() -> None:
    event = _event()
    encoded = encode_diagnosis(event)
    decoded = decode_diagnosis(encoded.value, encoded.headers)
    assert decoded == event
    assert decoded.statements[1].certainty == "possible"
    assert decoded.measurements is not None and decoded.measurements.rhythm == "sinus"
    assert decoded.measurements.excluded_leads == ["V2"]
    assert decoded.verdict is not None and decoded.verdict["most_important_code"] == 21
    assert decoded.critical_findings[0]["finding"] == "severe_tachycardia"


def test_v2_bytes_decode_with_the_v3_defaults() -> None:
    record = schemaless_reader(io.BytesIO(encode_diagnosis(_event()).value), registry.writer_schema(TYPE, 3),
                               registry.writer_schema(TYPE, 2))  # fmt: skip
    buffer = io.BytesIO()
    schemaless_writer(buffer, registry.writer_schema(TYPE, 2), record)
    v2 = encode_event(TYPE, record, key=b"r1", source="old-worker", version=2)
    decoded = decode_diagnosis(v2.value, v2.headers)
    assert [s.certainty for s in decoded.statements] == ["definite", "definite"]  # v2 had no certainty
    assert decoded.verdict is None and decoded.critical_findings == []
    assert decoded.measurements is not None and decoded.measurements.rhythm is None
    assert decoded.measurements.heart_rate_bpm == 112.0


def test_v3_bytes_read_by_a_v2_reader_keep_the_v2_fields() -> None:
    encoded = encode_diagnosis(_event())
    old_view = schemaless_reader(io.BytesIO(encoded.value), registry.writer_schema(TYPE, 3), registry.writer_schema(TYPE, 2))
    assert "verdict" not in old_view and "certainty" not in old_view["statements"][0]
    assert "rhythm" not in old_view["measurements"]
