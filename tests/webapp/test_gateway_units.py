"""Pure parts of the gateway: form fields, file names, file selection, result JSON (no network)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest

from schemas.errors import InvalidRecording, UnsupportedFormat
from storage import DiagnosisView
from webapp.errors import FieldError, GatewayError, status_for
from webapp.fields import parse_fields
from webapp.results import diagnosis_json
from webapp.service import UploadedFile, read_uploaded, safe_name

GOOD = {"age": "61", "sex": "f", "height_cm": "164,5", "weight_kg": "70"}


def test_fields_parse_and_normalise():
    fields = parse_fields({**GOOD, "patient_ref": "  MRN-1 ", "device_id": "cart-7"})
    assert (fields.age, fields.sex, fields.height_cm, fields.weight_kg) == (61, "F", 164.5, 70.0)
    assert fields.patient_ref == "MRN-1" and fields.device_id == "cart-7"
    assert "MRN" not in repr(fields) and "61" not in repr(fields)
    assert parse_fields({**GOOD, "sex": "Male"}).sex == "M"
    assert parse_fields({**GOOD, "patient_ref": ""}).patient_ref is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("age", "121"),
        ("age", "1e3"),
        ("sex", ""),
        ("height_cm", "inf"),
        ("weight_kg", "0"),
        ("device_id", "a b"),
    ],
)
def test_fields_out_of_range(field, value):
    with pytest.raises(FieldError) as caught:
        parse_fields({**GOOD, field: value})
    assert caught.value.status == 422 and caught.value.details == {"field": field}


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\\\x\\\\a b.dcm", "a_b.dcm"),
        (".hidden.h5", "hidden.h5"),
        ("", "upload"),
    ],
)
def test_safe_name(name, safe):
    assert safe_name(name) == safe


@pytest.mark.parametrize(
    ("names", "reason"),
    [([], "no_file"), (["a.hea"], "incomplete_wfdb"), (["a.mat"], "incomplete_wfdb"),
     (["a.dcm", "b.dcm"], "too_many_files"), (["a.dcm", "a.dcm"], "duplicate_file")],
)  # fmt: skip
def test_unusable_file_selections(names, reason):
    files = [UploadedFile(name, io.BytesIO(b"x")) for name in names]
    with pytest.raises(GatewayError) as caught:
        read_uploaded(files)
    assert caught.value.reason == reason and caught.value.status == 400


def test_reader_errors_do_not_reveal_the_temp_folder():
    with pytest.raises(UnsupportedFormat) as caught:
        read_uploaded([UploadedFile("x.dcm", io.BytesIO(b"garbage" * 100))])
    assert str(caught.value).startswith("x.dcm:") and "/" not in str(caught.value)


def test_status_codes_of_reader_errors():
    assert status_for(UnsupportedFormat("x")) == 415
    assert status_for(InvalidRecording("x", reason="unreadable")) == 415
    assert status_for(InvalidRecording("x", reason="oversize")) == 413
    assert status_for(InvalidRecording("x", reason="flat_signal")) == 422


def test_diagnosis_json_keeps_the_worker_order_and_patient_data_out():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    view = DiagnosisView(
        recording_id="r1", model_version="m1",
        statements=[{"code": 1, "description": "Normal ECG", "probability": 0.9},
                    {"code": 21, "description": "Sinus tachycardia", "probability": 0.6}],
        probabilities={"1": 0.9, "21": 0.6, "22": 0.01}, received_at=now, diagnosed_at=now + timedelta(seconds=1),
        queue_wait_seconds=0.1, preprocess_seconds=0.01, inference_seconds=0.002,
        latency_from_acquisition_seconds=None, latency_from_ingest_seconds=0.31234, device_id="cart",
        patient_ref_hash="abc", age=61, sex="F", height_cm=164.5, weight_kg=70.0, sampling_rate_hz=500.0,
        n_samples=5000, duration_s=10.0, acquired_at=None, ingested_at=now, signal_sha256="00", has_signal=False,
    )  # fmt: skip
    body = diagnosis_json(view)
    assert [s["code"] for s in body["statements"]] == [1, 21]
    assert body["statements"][0] == {
        "code": 1, "name": "Normal ECG", "probability": 0.9, "provenance": "model", "evidence": None,
        "modifies": None, "certainty": "definite",
    }, "a row stored before provenance (and certainty) existed reads as the model's, definite"
    assert body["readable"] is True and body["unreadable_reasons"] == []
    assert body["measurements"] is None and body["quality"] is None
    assert body["probabilities"] == {"1": 0.9, "21": 0.6}  # positives only
    assert body["status"] == "done" and body["model_version"] == "m1"
    assert body["timings"]["latency_from_ingest_seconds"] == 0.312
    assert not {"patient_ref_hash", "age", "sex", "height_cm", "weight_kg", "device_id"} & set(body)


def test_diagnosis_json_carries_findings_provenance_and_modifiers():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    measurements = {"heart_rate_bpm": 112.0, "qrs_ms": 90.0, "beats": {"N": 10}, "missing": {"pr_ms": "no_p_waves"}}
    quality = {"verdict": "acceptable", "problems": [], "leads": [{"lead": "V1", "verdict": "unreadable",
                                                                   "problems": ["lead_off"]}]}
    view = DiagnosisView(
        recording_id="r2", model_version="m1",
        statements=[{"code": 21, "description": "Sinus tachycardia", "probability": None,
                     "provenance": "measurement", "evidence": "HR 112 bpm > 100"},
                    {"code": 30, "description": "Atrial premature complex", "probability": 0.4, "provenance": "both",
                     "evidence": "2 S beats", "modifies": None},
                    {"code": 308, "description": "Occasional", "probability": None, "provenance": "measurement",
                     "evidence": "2 of 12 beats", "modifies": 30},
                    {"code": 147, "description": "T wave changes", "probability": 0.7, "provenance": "model",
                     "evidence": None}],
        probabilities={"147": 0.7}, received_at=now, diagnosed_at=now, queue_wait_seconds=0.1,
        preprocess_seconds=0.01, inference_seconds=0.002, latency_from_acquisition_seconds=None,
        latency_from_ingest_seconds=0.3, device_id=None, patient_ref_hash=None, age=61, sex="F", height_cm=None,
        weight_kg=None, sampling_rate_hz=500.0, n_samples=5000, duration_s=10.0, acquired_at=None, ingested_at=now,
        signal_sha256="00", has_signal=False, measurements=measurements, quality=quality,
    )  # fmt: skip
    body = diagnosis_json(view)
    assert [(s["code"], s["provenance"], s["modifies"]) for s in body["statements"]] == [
        (21, "measurement", None), (30, "both", None), (308, "measurement", 30), (147, "model", None)
    ]
    assert body["statements"][0]["evidence"] == "HR 112 bpm > 100" and body["statements"][0]["probability"] is None
    assert body["measurements"] == measurements and body["quality"] == quality
    # the headline: 21, 30, 147 are abnormal (308 is a modifier); T-wave change outranks the rest
    assert body["verdict"] == "Abnormal ECG: 3 statements, most important: T wave changes"
    assert body["verdict_detail"]["kind"] == "abnormal" and body["critical_findings"] == []
    assert body["tracing_url"] == "/api/recordings/r2/tracing.svg"
    assert body["report_url"] == "/api/recordings/r2/report.pdf"


def test_diagnosis_json_flags_critical_findings_with_their_rule():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    view = DiagnosisView(
        recording_id="r3", model_version="m1",
        statements=[{"code": 50, "description": "Atrial fibrillation", "probability": 0.9, "provenance": "both"},
                    {"code": 346, "description": "Rapid ventricular response", "probability": None,
                     "provenance": "measurement", "modifies": 50}],
        probabilities={"50": 0.9}, received_at=now, diagnosed_at=now, queue_wait_seconds=0.1,
        preprocess_seconds=0.01, inference_seconds=0.002, latency_from_acquisition_seconds=None,
        latency_from_ingest_seconds=0.3, device_id=None, patient_ref_hash=None, age=61, sex="F", height_cm=None,
        weight_kg=None, sampling_rate_hz=500.0, n_samples=5000, duration_s=10.0, acquired_at=None, ingested_at=now,
        signal_sha256="00", has_signal=False, measurements={"heart_rate_bpm": 156.0}, quality={"verdict": "good"},
    )  # fmt: skip
    body = diagnosis_json(view)
    assert body["verdict"] == "Abnormal ECG: 1 statement, most important: Atrial fibrillation"
    assert [(f["finding"], f["evidence"]) for f in body["critical_findings"]] == [
        ("af_rapid_ventricular_response", "statements 50 + 346 (measured rhythm)"),
        ("severe_tachycardia", "heart rate 156 bpm"),
    ]
    assert all(f["rule"] for f in body["critical_findings"])
