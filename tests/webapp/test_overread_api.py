"""Physician overread over real HTTP: real Tansu broker, real Postgres, the gateway under uvicorn, a real
CinC 2021 recording uploaded as DICOM with a patient name and reference. Diagnoses are written through
the real SQL sink (as in test_clinic_api), so the test decides which recording has a critical finding.

Checks: the worklist (critical first, then oldest; scope results:confirm), confirm / edit / reject with
their validation, versions and 409 on a stale version, the audit trail, the result's ``overread``,
the events on the overreads topic, and the patient name: kept encrypted, printed on the PDF, in no
JSON answer and no log line.
"""

from __future__ import annotations

import asyncio
import io
import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from schemas.overread_event import decode_overread
from storage import DiagnosisResult, create_engine
from storage.identity import PatientIdentityRow
from tests.stream_processor.export_servers import read_topic
from tests.webapp.conftest import api_token, bearer, cinc_as_dicom, serve_gateway, write_diagnoses

pytestmark = pytest.mark.integration

PATIENT_REF, PATIENT_NAME = "MRN-CLEAR-77231", "Zyxwort, Adelheid"
FORM = {"age": "70", "sex": "F", "height_cm": "160", "weight_kg": "60", "patient_ref": PATIENT_REF,
        "patient_name": PATIENT_NAME}  # fmt: skip
BLOCK = [{"code": 88, "description": "AV block, complete (third-degree)", "probability": 0.9, "provenance": "model",
          "evidence": "model p=0.90 >= threshold 0.50"}]  # fmt: skip
SINUS = [{"code": 22, "description": "Sinus bradycardia", "probability": 0.8, "provenance": "both", "evidence": None}]


@pytest.fixture
def settings(tansu, fresh_postgres_url, unique_name, tmp_path):  # type: ignore[no-untyped-def]
    """The package's isolated stack, with an overreads topic of this test's own."""
    from storage import upgrade
    from tests.e2e.helpers import isolated_settings

    upgrade(fresh_postgres_url)
    return isolated_settings(tansu.bootstrap, fresh_postgres_url, tmp_path / "home", unique_name,
                             overreads_topic=f"overreads-{unique_name}", site_timezone="America/New_York")  # fmt: skip


def _store(settings, recording_id: str, statements: list, received: datetime, **extra) -> None:  # type: ignore[no-untyped-def]
    result = DiagnosisResult(
        recording_id=recording_id, model_version="cae-test", device_id=None, patient_ref=extra.get("patient_ref"),
        statements=statements, probabilities={}, age=70, sex="F", height_cm=160.0, weight_kg=60.0,
        sampling_rate_hz=500.0, n_samples=5000, acquired_at=received - timedelta(minutes=2), ingested_at=received,
        signal_sha256="0" * 64, signal=None, received_at=received, diagnosed_at=received + timedelta(seconds=1),
        queue_wait_seconds=0.1, preprocess_seconds=0.01, inference_seconds=0.01,
        measurements={"heart_rate_bpm": 38.0 if statements == BLOCK else 55.0, "qrs_ms": 100.0},
    )  # fmt: skip

    write_diagnoses(settings, result)


async def _ciphertexts(url: str) -> list[bytes]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return [bytes(c) for c in (await conn.execute(select(PatientIdentityRow.ciphertext))).scalars()]
    finally:
        await engine.dispose()


def test_overread_worklist_versions_trail_events_and_report(settings, tmp_path, caplog):
    from pypdf import PdfReader

    caplog.set_level(logging.DEBUG)
    db = settings.database_url
    cart = api_token(db, "recordings:write", "recordings:read")
    physician = api_token(db, "results:read:all", "results:confirm", name="dr-jones")
    reader = api_token(db, "results:read:all")
    dicom = cinc_as_dicom(tmp_path / "files")
    t0 = datetime.now(UTC) - timedelta(hours=3)
    with serve_gateway(settings, settings.kafka_bootstrap) as url, httpx.Client(base_url=url, timeout=60) as http:
        def upload() -> str:
            response = http.post("/api/recordings", data=FORM, headers=bearer(cart),
                                 files=[("file", (dicom.name, dicom.read_bytes(), "application/dicom"))])  # fmt: skip
            assert response.status_code == 202, response.text
            return str(response.json()["recording_id"])

        plain, critical, pending = upload(), upload(), upload()
        _store(settings, "streamed", SINUS, t0 - timedelta(days=1))  # arrived another way, last
        _store(settings, plain, SINUS, t0, patient_ref=PATIENT_REF)
        _store(settings, critical, BLOCK, t0 + timedelta(hours=1), patient_ref=PATIENT_REF)

        def worklist(token: str = physician, **params: str) -> httpx.Response:
            return http.get("/api/worklist", params=params, headers=bearer(token))

        def overread(rid: str, body: object, token: str = physician) -> httpx.Response:
            return http.post(f"/api/recordings/{rid}/overread", json=body, headers=bearer(token))

        # the worklist: critical first, then the oldest; only for results:confirm
        listed = worklist()
        assert listed.status_code == 200, listed.text
        assert [i["recording_id"] for i in listed.json()["items"]] == [critical, plain, "streamed"]
        findings = {f["finding"] for f in listed.json()["items"][0]["critical_findings"]}
        assert findings == {"severe_bradycardia", "complete_heart_block"}
        assert listed.json()["total"] == 3 and not listed.json()["has_more"]
        paged = worklist(page="2", page_size="1").json()
        assert [i["recording_id"] for i in paged["items"]] == [plain] and paged["has_more"]
        assert worklist(reader).status_code == 403 and worklist(cart).status_code == 403
        assert worklist(status="pending").json()["error"]["field"] == "status"
        assert http.get("/api/worklist").status_code == 401

        # the result before any overread
        result = http.get(f"/api/recordings/{critical}", headers=bearer(physician)).json()
        assert result["overread"]["status"] == "unconfirmed" and result["overread"]["version"] == 0

        # who may overread, and what a body must be
        assert overread(critical, {"action": "confirm"}, reader).status_code == 403
        assert overread(pending, {"action": "confirm"}).json()["error"]["reason"] == "pending"
        for body, field in (
            ({"action": "approve"}, "action"),
            ({"action": "confirm", "statements": []}, "statements"),
            ({"action": "edit", "statements": [{"code": 999}]}, "statements"),
            ({"action": "edit", "statements": [{"code": 346}]}, "statements"),  # a modifier of nothing
            ({"action": "edit", "statements": [{"code": 1}, {"code": 50}]}, "statements"),
            ({"action": "edit", "statements": []}, "statements"),  # no statement and no free text
            ({"action": "reject"}, "reason"),
            ({"action": "confirm", "by": "someone"}, "by"),
            ({"action": "confirm", "base_version": "1"}, "base_version"),
        ):  # fmt: skip
            refused = overread(critical, body)
            assert refused.status_code == 422 and refused.json()["error"]["field"] == field, (body, refused.text)
        not_json = http.post(f"/api/recordings/{critical}/overread", content=b"action=confirm",
                             headers={**bearer(physician), "Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
        assert not_json.status_code == 415

        # confirm, then edit: versions 1 and 2; a stale version is a conflict, never an overwrite
        confirmed = overread(critical, {"action": "confirm", "base_version": 0})
        assert confirmed.status_code == 201, confirmed.text
        first = confirmed.json()
        assert first["status"] == "confirmed" and first["version"] == 1 and first["published"] is True
        assert [s["code"] for s in first["statements"]] == [88] and first["statements"][0]["source"] == "physician"
        edit = {"action": "edit", "base_version": 1, "free_text": "Escape rhythm 38/min.", "reason": "T waves",
                "statements": [{"code": 88}, {"code": 147}, {"code": 367, "modifies": 147}]}  # fmt: skip
        edited = overread(critical, edit)
        assert edited.status_code == 201, edited.text
        assert edited.json()["version"] == 2 and edited.json()["amends_version"] == 1
        assert overread(critical, {**edit, "base_version": 1}).status_code == 409
        rejected = overread(plain, {"action": "reject", "reason": "limb leads reversed"})
        assert rejected.status_code == 201 and rejected.json()["status"] == "rejected"

        after = http.get(f"/api/recordings/{critical}", headers=bearer(cart)).json()["overread"]
        assert after["status"] == "confirmed" and after["version"] == 2 and after["free_text"] == "Escape rhythm 38/min."
        assert [(s["code"], s["modifies"]) for s in after["statements"]] == [(88, None), (147, None), (367, 147)]
        trail = http.get(f"/api/recordings/{critical}/overreads", headers=bearer(cart))
        assert [(i["version"], i["action"]) for i in trail.json()["items"]] == [(1, "confirm"), (2, "edit")]
        assert http.get("/api/recordings/unknown-id/overreads", headers=bearer(reader)).status_code == 404
        assert [i["recording_id"] for i in worklist().json()["items"]] == ["streamed"]

        pdf = http.get(f"/api/recordings/{critical}/report.pdf", headers=bearer(physician))
        assert pdf.status_code == 200, pdf.text
        page1 = " ".join((PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text() or "").split())
        for expected in (f"Name: {PATIENT_NAME}", f"Patient ID: {PATIENT_REF}", "Confirmed by", "(America/New_York)",
                         "T-wave abnormality, inversion", "Comment: Escape rhythm 38/min.", "Vent. rate 38 bpm"):  # fmt: skip
            assert expected in page1, expected
        answers = [http.get(f"/api/recordings/{rid}", headers=bearer(physician)).text for rid in (critical, plain)]
        answers += [worklist().text, trail.text]

    events = asyncio.run(read_topic(settings.kafka_bootstrap, settings.overreads_topic, 3, timeout=30))
    decoded = sorted((decode_overread(e.value, list(e.headers)) for e in events), key=lambda e: (e.recording_id, e.version))
    assert [(e.recording_id, e.version, e.action, e.amends_version) for e in decoded] == sorted(
        [(critical, 1, "confirm", None), (critical, 2, "edit", 1), (plain, 1, "reject", None)])  # fmt: skip
    assert all(e.key.decode() in (critical, plain) for e in events)
    for text in [*answers, *(e.value.decode("latin-1") for e in events)]:
        assert PATIENT_NAME not in text and PATIENT_REF not in text
    ciphertexts = asyncio.run(_ciphertexts(db))
    assert len(ciphertexts) == 3 and not any(PATIENT_NAME.encode() in c or PATIENT_REF.encode() in c for c in ciphertexts)
    for record in caplog.records:
        assert PATIENT_NAME not in record.getMessage() and PATIENT_NAME not in str(record.__dict__), record.name
        assert PATIENT_REF not in record.getMessage() and PATIENT_REF not in str(record.__dict__), record.name
