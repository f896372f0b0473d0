"""The tracing and report endpoints over real HTTP: real Tansu broker, real Postgres, a real
CinC 2021 recording uploaded as DICOM. The diagnosis is written through the real SQL sink rather
than by a running worker (the worker's path to the same rows is covered by tests/e2e), so the
test controls the statements and measurements that must show as critical findings."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from defusedxml import ElementTree

from storage import DiagnosisResult
from tests.webapp.conftest import api_token, bearer, cinc_as_dicom, write_diagnoses

pytestmark = pytest.mark.integration

SVG = "{http://www.w3.org/2000/svg}"
PATIENT_REF = "PAT-CLEAR-4711"
FORM = {"age": "61", "sex": "M", "height_cm": "181", "weight_kg": "92.5", "patient_ref": PATIENT_REF}


def _store_diagnosis(settings, recording_id: str) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    result = DiagnosisResult(
        recording_id=recording_id, model_version="cae-test", device_id=None, patient_ref=PATIENT_REF,
        statements=[{"code": 88, "description": "AV block, complete (third-degree)", "probability": 0.8,
                     "provenance": "model", "evidence": None}],
        probabilities={"88": 0.8}, age=61, sex="M", height_cm=181.0, weight_kg=92.5, sampling_rate_hz=500.0,
        n_samples=5000, acquired_at=None, ingested_at=now, signal_sha256="0" * 64, signal=None,
        received_at=now, diagnosed_at=now + timedelta(seconds=1), queue_wait_seconds=0.1,
        preprocess_seconds=0.01, inference_seconds=0.01,
        measurements={"heart_rate_bpm": 36.0, "qrs_ms": 100.0, "beats": {"N": 6}},
        quality={"verdict": "acceptable", "problems": [],
                 "leads": [{"lead": "V3", "verdict": "unreadable", "problems": ["lead_off"]}]},
    )  # fmt: skip

    write_diagnoses(settings, result)


def _svg_groups(svg: bytes) -> set[str]:
    return {g.get("id") for g in ElementTree.fromstring(svg).iter(f"{SVG}g") if g.get("id")}


def test_tracing_and_report_follow_the_result_rules(settings, base_url, tmp_path):
    from pypdf import PdfReader

    db = settings.database_url
    cart, other = api_token(db, "recordings:write", "recordings:read"), api_token(db, "recordings:write", "recordings:read")
    reader, write_only = api_token(db, "results:read:all"), api_token(db, "recordings:write")
    dicom = cinc_as_dicom(tmp_path / "files")
    with httpx.Client(base_url=base_url, timeout=60) as http:
        upload = http.post("/api/recordings", data=FORM, headers=bearer(cart),
                           files=[("file", (dicom.name, dicom.read_bytes(), "application/dicom"))])  # fmt: skip
        assert upload.status_code == 202, upload.text
        rid = upload.json()["recording_id"]
        tracing, report = f"/api/recordings/{rid}/tracing.svg", f"/api/recordings/{rid}/report.pdf"

        pending = http.get(tracing, headers=bearer(cart))  # the tracing exists before the diagnosis
        assert pending.status_code == 200 and pending.headers["content-type"] == "image/svg+xml"
        assert pending.headers["cache-control"] == "no-store"
        groups = _svg_groups(pending.content)
        assert len([g for g in groups if g.startswith("trace-")]) == 13 and "beats" not in groups
        assert http.get(report, headers=bearer(cart)).json()["error"]["reason"] == "pending"

        unknown = http.get(f"/api/recordings/{uuid.uuid4()}/tracing.svg", headers=bearer(other))
        for path in (tracing, report):
            foreign = http.get(path, headers=bearer(other))
            assert foreign.status_code == unknown.status_code == 404 and foreign.json() == unknown.json()
            assert http.get(path, headers=bearer(write_only)).status_code == 403
            assert http.get(path).status_code == 401
        assert http.get(tracing, headers=bearer(reader)).status_code == 200

        _store_diagnosis(settings, rid)
        body = http.get(f"/api/recordings/{rid}", headers=bearer(cart)).json()
        assert body["verdict"] == "Abnormal ECG: 1 statement, most important: AV block, complete (third-degree)"
        assert [f["finding"] for f in body["critical_findings"]] == ["severe_bradycardia", "complete_heart_block"]

        done = http.get(tracing, headers=bearer(cart))
        assert {"beats", "unreadable-V3", "grid-minor", "grid-major", "calibration-3"} <= _svg_groups(done.content)
        pdf = http.get(report, headers=bearer(reader))
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.headers["content-disposition"] == f'attachment; filename="ecg-report-{rid}.pdf"'
    text = " ".join(" ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf.content)).pages).split())
    for expected in ("Age 61 years", "Sex male", "Height 181 cm", "Weight 92.5 kg", "CRITICAL: Complete heart block",
                     "CRITICAL: Severe bradycardia", "cae-test", "V3 unreadable", "Decision support only"):  # fmt: skip
        assert expected in text, expected
    for content in (done.content, pending.content):
        assert PATIENT_REF.encode() not in content
    # the report is the one place the identifier as entered is printed (a chart document, issue 19)
    assert f"Patient ID: {PATIENT_REF}" in text
