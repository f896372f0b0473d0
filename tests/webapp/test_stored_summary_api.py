"""Every view of one recording reads the verdict, critical findings and beats the worker stored, and
answers a row stored without them (before revision 0009_summary) exactly as before; one dependency
(``webapp.readable``) gives every view the same 401 / 403 / 404 / 409 answers.

Real uvicorn, real Tansu broker, real Postgres, a real CinC 2021 record uploaded as DICOM (the
gateway keeps its samples); diagnoses are written through the real SQL sink, with the summary the
worker computes (``stream_processor.findings.with_findings``) or without it.
"""

from __future__ import annotations

import asyncio
import io
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from defusedxml import ElementTree

from storage import DiagnosisResult, SqlDiagnosisSink, create_engine
from stream_processor.analysis import RecordingOutcome
from stream_processor.findings import with_findings
from tests.webapp.conftest import api_token, bearer, cinc_as_dicom

pytestmark = pytest.mark.integration

SVG = "{http://www.w3.org/2000/svg}"
PATIENT_REF = "MRN-CLEAR-0815"
FORM = {"age": "66", "sex": "M", "height_cm": "178", "weight_kg": "80", "patient_ref": PATIENT_REF}
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
BLOCK = [{"code": 88, "description": "AV block, complete (third-degree)", "probability": 0.8, "provenance": "model",
          "evidence": None}]  # fmt: skip
MEASURED = {"heart_rate_bpm": 36.0, "qrs_ms": 100.0, "beats": {"N": 4, "V": 2}}
# where the worker found the beats: two premature ventricular beats the samples would not show
BEATS = {
    "fs": 500.0,
    "r_peaks": [400, 1400, 1900, 2900, 3400, 4400],
    "classes": ["N", "V", "N", "V", "N", "N"],
}


def _result(recording_id: str, acquired_at: datetime) -> DiagnosisResult:
    return DiagnosisResult(
        recording_id=recording_id, model_version="cae-test", device_id=None, patient_ref=PATIENT_REF,
        statements=BLOCK, probabilities={"88": 0.8}, age=66, sex="M", height_cm=178.0, weight_kg=80.0,
        sampling_rate_hz=500.0, n_samples=5000, acquired_at=acquired_at, ingested_at=acquired_at,
        signal_sha256="0" * 64, signal=None, received_at=acquired_at, diagnosed_at=acquired_at + timedelta(seconds=2),
        queue_wait_seconds=0.1, preprocess_seconds=0.01, inference_seconds=0.01, measurements=MEASURED,
    )  # fmt: skip


def _write(settings: Any, *results: DiagnosisResult) -> None:
    async def write() -> None:
        engine = create_engine(settings.database_url)
        try:
            await SqlDiagnosisSink(engine, hmac_secret=settings.patient_hmac_secret).write_batch(
                list(results)
            )
        finally:
            await engine.dispose()

    asyncio.run(write())


def _markers(svg: bytes, group: str) -> int:
    groups = {g.get("id"): g for g in ElementTree.fromstring(svg).iter(f"{SVG}g") if g.get("id")}
    return len(list(groups[group].iter(f"{SVG}use"))) if group in groups else 0


def _stable(body: dict[str, Any]) -> dict[str, Any]:
    """A result without what differs between two recordings (ids, links, times)."""
    drop = {"recording_id", "tracing_url", "report_url", "overread", "received_at", "diagnosed_at", "timings"}
    return {key: value for key, value in body.items() if key not in drop}


def test_views_read_the_stored_summary_and_beats_and_compute_them_for_older_rows(
    settings, base_url, tmp_path
):
    from pypdf import PdfReader

    db = settings.database_url
    cart, other = api_token(db, "recordings:write", "recordings:read"), api_token(db, "recordings:read")
    physician, write_only = (
        api_token(db, "results:read:all", "results:confirm"),
        api_token(db, "recordings:write"),
    )
    dicom = cinc_as_dicom(tmp_path / "files")
    files = [("file", (dicom.name, dicom.read_bytes(), "application/dicom"))]
    with httpx.Client(base_url=base_url, timeout=60) as http:
        older, newer, pending = (
            http.post("/api/recordings", data=FORM, files=files, headers=bearer(cart)).json()["recording_id"]
            for _ in range(3)
        )
        outcome = RecordingOutcome((), {})  # the worker's: here only its beats matter, set below
        stored = replace(with_findings(_result(newer, T0 + timedelta(days=1)), outcome), beats=BEATS)
        _write(settings, _result(older, T0), stored)  # ``older``: a row without summary or beats

        got = {rid: http.get(f"/api/recordings/{rid}", headers=bearer(cart)).json() for rid in (older, newer)}
        assert (
            got[newer]["verdict_detail"] == stored.verdict
            and got[newer]["critical_findings"] == stored.critical_findings
        )
        assert _stable(got[older]) == _stable(got[newer]), (
            "an older row is computed exactly as the worker stores it"
        )
        assert [f["finding"] for f in got[newer]["critical_findings"]] == [
            "severe_bradycardia",
            "complete_heart_block",
        ]

        listed = {
            i["recording_id"]: i for i in http.get("/api/recordings", headers=bearer(cart)).json()["items"]
        }
        assert listed[newer]["verdict"] == listed[older]["verdict"] == stored.verdict["text"]  # type: ignore[index]
        worklist = http.get("/api/worklist", headers=bearer(physician)).json()["items"]
        assert [i["recording_id"] for i in worklist] == [older, newer], "both critical, oldest first"
        assert (
            worklist[0]["critical_findings"] == worklist[1]["critical_findings"] == stored.critical_findings
        )
        compared = http.get(f"/api/recordings/{newer}/comparison", headers=bearer(cart)).json()
        assert compared["previous"]["recording_id"] == older
        assert compared["previous"]["verdict"] == compared["current"]["verdict"] == stored.verdict["text"]  # type: ignore[index]

        svg = http.get(f"/api/recordings/{newer}/tracing.svg", headers=bearer(cart))
        assert svg.status_code == 200
        assert (_markers(svg.content, "beats"), _markers(svg.content, "premature-beats")) == (4, 2), (
            "the stored beats"
        )
        pdf = http.get(f"/api/recordings/{newer}/report.pdf", headers=bearer(cart))
        text = " ".join(
            " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf.content)).pages).split()
        )
        assert "CRITICAL: Complete heart block" in text and "CRITICAL: Severe bradycardia" in text

        # the one dependency: the same answers for every view of one recording
        unknown = f"/api/recordings/{uuid.uuid4()}"
        views = ("", "/tracing.svg", "/report.pdf", "/comparison", "/overreads")
        not_found = http.get(unknown, headers=bearer(other)).json()
        for view in views:
            assert http.get(f"{unknown}{view}", headers=bearer(cart)).json() == not_found, view
            foreign = http.get(f"/api/recordings/{newer}{view}", headers=bearer(other))
            assert foreign.status_code == 404 and foreign.json() == not_found, view
            assert http.get(f"/api/recordings/bad%20id{view}", headers=bearer(cart)).json() == not_found, view
            assert (
                http.get(f"/api/recordings/{newer}{view}", headers=bearer(write_only)).status_code == 403
            ), view
            assert http.get(f"/api/recordings/{newer}{view}").status_code == 401, view
        assert http.get(f"/api/recordings/{pending}", headers=bearer(cart)).json()["status"] == "pending"
        for view in ("/report.pdf", "/comparison"):
            answer = http.get(f"/api/recordings/{pending}{view}", headers=bearer(cart))
            assert answer.status_code == 409 and answer.json()["error"]["reason"] == "pending", view
        assert http.get(f"/api/recordings/{pending}/tracing.svg", headers=bearer(cart)).status_code == 200
    assert not_found == {"error": {"reason": "unknown_recording", "message": "no such recording"}}
