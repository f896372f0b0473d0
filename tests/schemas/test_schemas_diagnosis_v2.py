"""Diagnosis event version 2: measurements, quality, provenance, readability; v1 compatibility."""

from __future__ import annotations

import io
import math
from datetime import UTC, datetime

from fastavro import schemaless_reader

from schemas import (
    DiagnosisEvent,
    EventMeasurements,
    EventQuality,
    LeadMeasurement,
    LeadQualityRecord,
    Statement,
    decode_diagnosis,
    encode_diagnosis,
    registry,
)
from schemas.codec import encode_event
from schemas.headers import header_map

T = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
TYPE = "org.ecgstream.diagnosis"


def _measurements() -> EventMeasurements:
    return EventMeasurements(
        heart_rate_bpm=112.4, rr_mean_ms=534.0, rr_sd_ms=21.0, pr_ms=None, qrs_ms=92.0, qt_ms=318.0,
        qtc_bazett_ms=435.0, qtc_fridericia_ms=391.0, p_axis_deg=None, qrs_axis_deg=-35.0, t_axis_deg=40.0,
        beats={"N": 18, "S": 1, "V": 0, "Q": 0},
        leads=[LeadMeasurement("I", 0.91, 0.02), LeadMeasurement("II", None, None)],
        sokolow_lyon_mv=2.4, cornell_mv=None, missing={"pr_ms": "no_p_waves", "p_axis_deg": "no_p_waves"},
    )  # fmt: skip


def _quality() -> EventQuality:
    return EventQuality(
        "acceptable",
        [LeadQualityRecord("I", "good", []), LeadQualityRecord("V2", "acceptable", ["baseline_wander"])],
        ["limb_leads_inconsistent"],
    )


def test_writers_write_the_newest_version() -> None:
    encoded = encode_diagnosis(DiagnosisEvent("r", "v", [], {}, diagnosed_at=T))
    assert header_map(encoded.headers)["ce_schemaversion"] == "3"
    assert registry.known_versions(TYPE) == (1, 2, 3)


def test_v2_round_trip_with_measurements_quality_and_provenance() -> None:
    event = DiagnosisEvent(
        "r1", "cae-1",
        statements=[
            Statement(21, "Sinus tachycardia", 0.94, "both", "HR 112 bpm > 100"),
            Statement(30, "Atrial premature complex", 0.41, "both", "6 S beats"),
            Statement(310, "Frequent", None, "measurement", "6 of 14 beats premature", modifies=30),
            Statement(147, "T wave changes", 0.61),
        ],
        probabilities={"21": 0.94, "147": 0.61}, diagnosed_at=T,
        measurements=_measurements(), quality=_quality(),
    )  # fmt: skip
    encoded = encode_diagnosis(event)
    decoded = decode_diagnosis(encoded.value, encoded.headers)
    assert decoded == event
    assert decoded.statements[2].probability is None, "no model probability: NaN on the wire, None here"
    assert decoded.statements[2].modifies == 30
    raw = schemaless_reader(io.BytesIO(encoded.value), registry.writer_schema(TYPE, 3), None)
    assert math.isnan(raw["statements"][2]["probability"])
    assert raw["measurements"]["missing"]["pr_ms"] == "no_p_waves"


def test_unreadable_event_has_reasons_and_no_statements() -> None:
    event = DiagnosisEvent(
        "r2", "cae-1", [], {}, diagnosed_at=T, readable=False,
        unreadable_reasons=["too_many_bad_leads", "lead_off"], quality=EventQuality("unreadable", [], ["no_qrs"]),
    )  # fmt: skip
    encoded = encode_diagnosis(event)
    decoded = decode_diagnosis(encoded.value, encoded.headers)
    assert decoded.readable is False and decoded.unreadable_reasons == ["too_many_bad_leads", "lead_off"]
    assert decoded.statements == [] and decoded.probabilities == {} and decoded.measurements is None


def test_v1_bytes_decode_with_the_v2_defaults() -> None:
    v1_record = {
        "recording_id": "old", "model_version": "cae-0.9",
        "statements": [{"code": 22, "description": "Sinus bradycardia", "probability": 0.8}],
        "probabilities": {"22": 0.8}, "device_id": None, "acquired_at": None, "ingested_at": None,
        "diagnosed_at": T, "latency_seconds": None, "source_partition": None, "source_offset": None,
    }  # fmt: skip
    v1 = encode_event(TYPE, v1_record, key=b"old", source="old-worker", version=1)
    assert header_map(v1.headers)["ce_schemaversion"] == "1"
    decoded = decode_diagnosis(v1.value, v1.headers)
    assert decoded.statements == [Statement(22, "Sinus bradycardia", 0.8, "model", None, None)]
    assert decoded.readable is True and decoded.unreadable_reasons == []
    assert decoded.measurements is None and decoded.quality is None


def test_v2_bytes_read_by_a_v1_reader_keep_the_v1_fields() -> None:
    """Roll-out safety: a consumer still on v1 that resolves v2 bytes (it got the v2 schema) sees v1."""
    event = DiagnosisEvent("r3", "cae-1", [Statement(1, "Normal", 0.7, "both", "x")], {"1": 0.7}, diagnosed_at=T,
                           measurements=_measurements(), quality=_quality())  # fmt: skip
    encoded = encode_diagnosis(event)
    old_view = schemaless_reader(
        io.BytesIO(encoded.value), registry.writer_schema(TYPE, 3), registry.writer_schema(TYPE, 1)
    )
    assert old_view["statements"] == [{"code": 1, "description": "Normal", "probability": 0.7}]
    assert "measurements" not in old_view


def test_findings_records_round_trip_through_json_shape() -> None:
    m, q = _measurements(), _quality()
    assert EventMeasurements.from_record(m.as_record()) == m
    assert EventQuality.from_record(q.as_record()) == q
    assert EventMeasurements.from_record({"heart_rate_bpm": float("nan")}).heart_rate_bpm is None
