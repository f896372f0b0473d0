"""History list, patient history and serial comparison over real HTTP: real Tansu broker, real
Postgres, real CinC 2021 recordings uploaded as DICOM. Diagnoses are written through the real SQL
sink rather than by a running worker (the browser test runs a worker), so the test controls the
statements, measurements and times being compared."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from storage import DiagnosisResult, SqlDiagnosisSink, create_engine
from tests.webapp.conftest import api_token, bearer, cinc_as_dicom

pytestmark = pytest.mark.integration

PATIENT_REF = "MRN-CLEAR-0042"
FORM = {"age": "70", "sex": "F", "height_cm": "160", "weight_kg": "60", "patient_ref": PATIENT_REF}
T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
NORMAL = [{"code": 1, "description": "Normal ECG", "probability": 0.9, "provenance": "model", "evidence": None}]
AF = [{"code": 50, "description": "Atrial fibrillation", "probability": 0.85, "provenance": "both", "evidence": None}]


def _store(settings, recording_id: str, statements: list[dict[str, Any]], measurements: dict[str, Any],
           ingested_at: datetime, **overrides: Any) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    values: dict[str, Any] = dict(
        recording_id=recording_id, model_version="cae-test", device_id=None, patient_ref=PATIENT_REF,
        statements=statements, probabilities={str(s["code"]): s["probability"] for s in statements}, age=70, sex="F",
        height_cm=160.0, weight_kg=60.0, sampling_rate_hz=500.0, n_samples=5000, acquired_at=None,
        ingested_at=ingested_at, signal_sha256="0" * 64, signal=None, received_at=ingested_at,
        diagnosed_at=ingested_at + timedelta(seconds=2), queue_wait_seconds=0.1, preprocess_seconds=0.01,
        inference_seconds=0.01, measurements=measurements,
    )  # fmt: skip
    values.update(overrides)

    async def write() -> None:
        engine = create_engine(settings.database_url)
        try:
            await SqlDiagnosisSink(engine, hmac_secret=settings.patient_hmac_secret).write_batch([DiagnosisResult(**values)])
        finally:
            await engine.dispose()

    asyncio.run(write())


def _upload(http: httpx.Client, token: str, dicom, form: dict[str, str] = FORM) -> str:  # type: ignore[no-untyped-def]
    response = http.post("/api/recordings", data=form, headers=bearer(token),
                         files=[("file", (dicom.name, dicom.read_bytes(), "application/dicom"))])  # fmt: skip
    assert response.status_code == 202, response.text
    return str(response.json()["recording_id"])


def _ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["recording_id"] for item in response.json()["items"]]


def test_history_lists_filters_pages_and_authorises(settings, base_url, tmp_path):
    db = settings.database_url
    ann, bob = api_token(db, "recordings:write", "recordings:read"), api_token(db, "recordings:write", "recordings:read")
    reader, write_only = api_token(db, "results:read:all"), api_token(db, "recordings:write")
    dicom = cinc_as_dicom(tmp_path / "files")
    with httpx.Client(base_url=base_url, timeout=60) as http:
        first, second, third = (_upload(http, ann, dicom) for _ in range(3))
        bobs = _upload(http, bob, dicom, {**FORM, "patient_ref": "someone-else"})
        _store(settings, first, NORMAL, {"heart_rate_bpm": 64.0}, T0)
        _store(settings, second, AF, {"heart_rate_bpm": 131.0}, T0 + timedelta(days=3))

        assert _ids(http.get("/api/recordings", headers=bearer(ann))) == [third, second, first]  # newest first
        assert _ids(http.get("/api/recordings", headers=bearer(bob))) == [bobs]
        assert _ids(http.get("/api/recordings", headers=bearer(reader))) == [bobs, third, second, first]
        items = http.get("/api/recordings", headers=bearer(ann)).json()["items"]
        assert [i["status"] for i in items] == ["pending", "abnormal", "normal"]
        assert items[1]["verdict"] == "Abnormal ECG: 1 statement, most important: Atrial fibrillation"
        assert items[1]["statements"] == [{"code": 50, "name": "Atrial fibrillation"}]
        assert items[1]["result_url"] == f"/?recording={second}"
        assert all(PATIENT_REF not in str(i) and "age" not in i for i in items)

        for query, expected in (("status=pending", [third]), ("status=normal", [first]), ("status=abnormal", [second]),
                                ("status=unreadable", []), ("statement=50", [second]), ("statement=1", [first])):  # fmt: skip
            assert _ids(http.get(f"/api/recordings?{query}", headers=bearer(ann))) == expected, query
        today = datetime.now(UTC).date()
        assert len(_ids(http.get(f"/api/recordings?since={today}&until={today}", headers=bearer(ann)))) == 3
        assert _ids(http.get(f"/api/recordings?until={today - timedelta(days=1)}", headers=bearer(ann))) == []

        page_one = http.get("/api/recordings?page_size=2", headers=bearer(ann)).json()
        page_two = http.get("/api/recordings?page_size=2&page=2", headers=bearer(ann)).json()
        assert [len(page_one["items"]), len(page_two["items"])] == [2, 1]
        assert page_one["has_more"] and not page_two["has_more"]

        for query, field in (("status=bogus", "status"), ("statement=abc", "statement"), ("statement=1000", "statement"),
                             ("page=0", "page"), ("page_size=101", "page_size"), ("since=yesterday", "since"),
                             ("since=2026-11-02&until=2026-11-01", "until"), ("patient_ref=x", "patient_ref"),
                             ("status=normal&status=abnormal", "status")):  # fmt: skip
            bad = http.get(f"/api/recordings?{query}", headers=bearer(ann))
            assert bad.status_code == 422 and bad.json()["error"]["field"] == field, (query, bad.text)
        assert http.get("/api/recordings").status_code == 401
        assert http.get("/api/recordings", headers=bearer(write_only)).status_code == 403


def test_patient_history_hashes_the_reference_and_never_shows_it(settings, base_url, tmp_path, caplog):
    db = settings.database_url
    ann, bob = api_token(db, "recordings:write", "recordings:read"), api_token(db, "recordings:write", "recordings:read")
    dicom = cinc_as_dicom(tmp_path / "files")
    caplog.set_level(logging.DEBUG)
    # uvicorn's own logging config makes its access logger stop propagating once any in-process server
    # has started (order-dependent in the whole suite), so listen on that logger directly as well.
    access_logger = logging.getLogger("uvicorn.access")
    access_logger.addHandler(caplog.handler)
    access_level, access_disabled = access_logger.level, access_logger.disabled
    access_logger.setLevel(logging.DEBUG)
    access_logger.disabled = False
    try:
        _patient_history_checks(settings, base_url, dicom, ann, bob)
    finally:
        access_logger.removeHandler(caplog.handler)
        access_logger.setLevel(access_level)
        access_logger.disabled = access_disabled

    access = [r for r in caplog.records if r.name == "uvicorn.access"]
    assert any("/api/patients/history" in r.getMessage() for r in access), "the access log was captured"
    for record in caplog.records:
        assert PATIENT_REF not in record.getMessage() and PATIENT_REF not in str(record.__dict__), record.name


def _patient_history_checks(settings, base_url: str, dicom, ann: str, bob: str) -> None:
    with httpx.Client(base_url=base_url, timeout=60) as http:
        first, second = _upload(http, ann, dicom), _upload(http, ann, dicom)
        other = _upload(http, ann, dicom, {**FORM, "patient_ref": "another-patient"})
        _store(settings, first, NORMAL, {}, T0)
        _store(settings, second, AF, {}, T0 + timedelta(days=1))
        _store(settings, other, AF, {}, T0, patient_ref="another-patient")

        def patient(token: str, body: object) -> httpx.Response:
            return http.post("/api/patients/history", json=body, headers=bearer(token))

        found = patient(ann, {"patient_ref": PATIENT_REF})
        assert _ids(found) == [second, first]
        assert _ids(patient(ann, {"patient_ref": f"  {PATIENT_REF} "})) == [second, first]  # trimmed as at upload
        assert _ids(patient(ann, {"patient_ref": PATIENT_REF, "status": "abnormal"})) == [second]
        assert _ids(patient(ann, {"patient_ref": "unknown"})) == []
        assert _ids(patient(bob, {"patient_ref": PATIENT_REF})) == []  # not bob's uploads
        assert PATIENT_REF not in found.text

        assert patient(ann, {}).json()["error"]["field"] == "patient_ref"
        assert patient(ann, {"patient_ref": "x" * 129}).status_code == 422
        assert patient(ann, {"patient_ref": PATIENT_REF, "page_size": 500}).json()["error"]["field"] == "page_size"
        assert patient(ann, ["not", "an", "object"]).status_code == 400
        assert http.post("/api/patients/history", content=b"{", headers={**bearer(ann), "content-type": "application/json"}).status_code == 400
        assert http.post("/api/patients/history", data={"patient_ref": PATIENT_REF}, headers=bearer(ann)).status_code == 415
        big = http.post("/api/patients/history", content=b'{"patient_ref": "' + b"x" * 5000 + b'"}',
                        headers={**bearer(ann), "content-type": "application/json"})  # fmt: skip
        assert big.status_code == 413
        assert http.post("/api/patients/history", json={"patient_ref": PATIENT_REF}).status_code == 401


def test_comparison_with_the_earlier_recording(settings, base_url, tmp_path):
    db = settings.database_url
    ann, bob = api_token(db, "recordings:write", "recordings:read"), api_token(db, "recordings:write", "recordings:read")
    reader = api_token(db, "results:read:all")
    dicom = cinc_as_dicom(tmp_path / "files")
    with httpx.Client(base_url=base_url, timeout=60) as http:
        first, second, pending = _upload(http, ann, dicom), _upload(http, ann, dicom), _upload(http, ann, dicom)
        _store(settings, first, NORMAL, {"heart_rate_bpm": 64.0, "qrs_ms": 92.0, "qrs_axis_deg": 40.0}, T0)
        _store(settings, second, AF, {"heart_rate_bpm": 131.0, "qrs_ms": 96.0, "qrs_axis_deg": -30.0},
               T0 + timedelta(days=30))  # fmt: skip

        body = http.get(f"/api/recordings/{second}/comparison", headers=bearer(ann)).json()
        assert body["previous"]["recording_id"] == first and body["current"]["recording_id"] == second
        assert body["new_statements"] == [{"code": 50, "name": "Atrial fibrillation"}]
        assert body["resolved_statements"] == [{"code": 1, "name": "Normal ECG"}] and body["changed"]
        changes = {c["key"]: c for c in body["measurement_changes"]}
        assert changes["heart_rate_bpm"]["change"] == 67.0 and changes["heart_rate_bpm"]["notable"]
        assert changes["qrs_ms"]["change"] == 4.0 and not changes["qrs_ms"]["notable"]
        assert changes["qrs_axis_deg"]["change"] == -70.0 and changes["pr_ms"]["change"] is None
        assert body["previous"]["verdict"] == "Normal ECG"
        earlier_svg = http.get(body["previous"]["tracing_url"], headers=bearer(ann))
        assert earlier_svg.status_code == 200 and earlier_svg.headers["content-type"] == "image/svg+xml"
        assert PATIENT_REF not in str(body)

        assert http.get(f"/api/recordings/{second}/comparison", headers=bearer(reader)).status_code == 200
        first_one = http.get(f"/api/recordings/{first}/comparison", headers=bearer(ann))
        assert first_one.status_code == 404 and first_one.json()["error"]["reason"] == "no_earlier_recording"
        foreign = http.get(f"/api/recordings/{second}/comparison", headers=bearer(bob))
        assert foreign.status_code == 404 and foreign.json()["error"]["reason"] == "unknown_recording"
        assert http.get(f"/api/recordings/{pending}/comparison", headers=bearer(ann)).status_code == 409
        assert http.get("/api/recordings/no-such-id/comparison", headers=bearer(reader)).status_code == 404
