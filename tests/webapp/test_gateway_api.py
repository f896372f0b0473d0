"""The JSON API over real HTTP (uvicorn on a free port) with the real Tansu broker and real Postgres."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from ingest.writers import write_dicom
from schemas import Recording, decode_recording
from storage import upgrade
from tests.e2e.helpers import isolated_settings
from tests.webapp.conftest import api_token, cinc_as_dicom, cinc_record, cinc_recording, serve_gateway

pytestmark = pytest.mark.integration

FORM = {"age": "61", "sex": "F", "height_cm": "164.5", "weight_kg": "70"}
SMALL_LIMIT = 256 * 1024


@pytest.fixture
def settings(tansu, fresh_postgres_url, unique_name, tmp_path):
    upgrade(fresh_postgres_url)
    return isolated_settings(tansu.bootstrap, fresh_postgres_url, tmp_path / "home", unique_name)


@pytest.fixture
def token(settings) -> str:
    """An admin API token (authentication itself is tested in tests/security)."""
    return api_token(settings.database_url, "admin")


@pytest.fixture
def client(settings, token) -> Iterator[httpx.Client]:
    with serve_gateway(settings, settings.kafka_bootstrap, max_upload_bytes=SMALL_LIMIT) as url:
        with httpx.Client(base_url=url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as http:
            yield http


def _files(*paths: Path) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("file", (path.name, path.read_bytes(), "application/octet-stream")) for path in paths]


async def _consume(
    bootstrap: str, topic: str, recording_id: str, timeout: float = 30
) -> tuple[Recording, dict]:
    """Read ``topic`` from the start (no consumer group: assigned partitions) until ``recording_id``."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        await consumer.topics()  # refresh the metadata, so the topic's partitions are known
        partitions = consumer.partitions_for_topic(topic) or set()
        assert partitions, f"topic {topic} does not exist"
        consumer.assign([TopicPartition(topic, p) for p in partitions])
        await consumer.seek_to_beginning()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    rec = decode_recording(record.value, record.headers)
                    if rec.recording_id == recording_id:
                        return rec, {k: v.decode() for k, v in record.headers}
    finally:
        await consumer.stop()
    raise AssertionError(f"recording {recording_id} not found on {topic}")


def _error(response: httpx.Response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["reason"] and body["error"]["message"]
    return body["error"]


def test_valid_dicom_upload_is_queued_and_lands_on_the_topic(client, settings, dicom_file, caplog):
    caplog.set_level(logging.DEBUG)
    form = {**FORM, "patient_ref": "MRN-0042-secret", "device_id": "cart-7"}
    response = client.post("/api/recordings", data=form, files=_files(dicom_file))

    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "queued"
    recording_id = body["recording_id"]
    assert str(uuid.UUID(recording_id)) == recording_id
    assert response.headers["location"] == f"/api/recordings/{recording_id}"

    rec, headers = asyncio.run(_consume(settings.kafka_bootstrap, settings.recordings_topic, recording_id))
    original = cinc_recording()
    assert rec.signal.shape == original.signal.shape == (12, 5000)
    assert rec.fs == original.fs == 500.0
    assert np.abs(rec.signal - original.signal).max() < 0.01  # int16 quantisation in mV
    assert (rec.age, rec.sex, rec.height_cm, rec.weight_kg) == (61, "F", 164.5, 70.0)
    assert rec.patient_ref == "MRN-0042-secret" and rec.device_id == "cart-7"
    assert rec.source == "ecgstream-gateway"  # the uploaded file name may identify the patient
    assert headers["ce_source"] == "ecgstream-gateway"

    status = client.get(f"/api/recordings/{recording_id}")
    assert status.status_code == 200 and status.json() == {"recording_id": recording_id, "status": "pending"}
    server_side = [
        r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))
    ]  # not the client
    logged = "\n".join(f"{r.getMessage()} {vars(r)}" for r in server_side)
    assert "upload queued" in logged
    assert "MRN-0042-secret" not in logged and "164.5" not in logged  # at any level, DEBUG included
    info = "\n".join(f"{r.getMessage()} {vars(r)}" for r in server_side if r.levelno >= logging.INFO)
    assert dicom_file.name not in info  # file names may carry patient names (ingest.detect logs it at DEBUG)


def test_wfdb_pair_upload_is_queued(client, settings):
    header = cinc_record("E07506")
    response = client.post("/api/recordings", data=FORM, files=_files(header, header.with_suffix(".mat")))
    assert response.status_code == 202, response.text
    rec, _ = asyncio.run(
        _consume(settings.kafka_bootstrap, settings.recordings_topic, response.json()["recording_id"])
    )
    assert rec.signal.shape[0] == 12 and rec.age == 61


@pytest.mark.parametrize("kind", ["aecg", "sph"])
def test_other_single_file_formats_are_queued(client, settings, tmp_path, kind):
    from ingest.writers import write_aecg
    from ingest.writers.sph import write_sph_record

    rec = cinc_recording("E07509")  # 500 Hz, as SPH files are
    path = (
        write_aecg(rec, tmp_path / "r.xml")
        if kind == "aecg"
        else write_sph_record(rec.signal, tmp_path / "r.h5")
    )
    response = client.post("/api/recordings", data=FORM, files=_files(path))
    assert response.status_code == 202, response.text
    got, _ = asyncio.run(
        _consume(settings.kafka_bootstrap, settings.recordings_topic, response.json()["recording_id"])
    )
    assert got.signal.shape == rec.signal.shape and got.fs == 500.0


def test_wfdb_header_alone_is_refused_with_a_hint(client):
    response = client.post("/api/recordings", data=FORM, files=_files(cinc_record()))
    assert response.status_code == 400
    assert _error(response)["reason"] == "incomplete_wfdb"
    assert ".dat or .mat" in _error(response)["message"]


@pytest.mark.parametrize("name", ["x.dcm", "x.h5", "x.xml", "x.bin"])
def test_garbage_is_rejected_with_a_reason_and_no_internal_path(client, name):
    garbage = np.random.default_rng(3).bytes(5000)
    response = client.post(
        "/api/recordings", data=FORM, files=[("file", (name, garbage, "application/dicom"))]
    )

    assert response.status_code == 415, response.text
    error = _error(response)
    assert error["reason"] in {"unsupported_format", "unreadable"}
    assert name in error["message"]
    assert "/tmp" not in response.text and "ecgstream-upload" not in response.text
    assert "Traceback" not in response.text


def test_empty_file_is_rejected(client):
    response = client.post(
        "/api/recordings", data=FORM, files=[("file", ("e.dcm", b"", "application/dicom"))]
    )
    assert response.status_code == 400 and _error(response)["reason"] == "empty_file"


@pytest.mark.parametrize(
    ("mutate", "reason", "phrase"),
    [
        (lambda s: s[:, :1000], "duration_out_of_range", "duration 2.00 s is outside 5-120 s"),
        (lambda s: np.zeros_like(s), "flat_signal", "every lead is flat"),
    ],
)
def test_invalid_recordings_get_the_validation_message(client, tmp_path, mutate, reason, phrase):
    rec = cinc_recording()
    rec.signal = np.ascontiguousarray(mutate(rec.signal))
    path = write_dicom(rec, tmp_path / "bad.dcm")
    response = client.post("/api/recordings", data=FORM, files=_files(path))
    assert response.status_code == 422, response.text
    error = _error(response)
    assert error["reason"] == reason and phrase in error["message"]


def test_oversize_is_refused_by_content_length(client):
    big = b"\0" * (SMALL_LIMIT * 2)
    response = client.post(
        "/api/recordings", data=FORM, files=[("file", ("big.dcm", big, "application/dicom"))]
    )
    assert response.status_code == 413
    error = _error(response)
    assert error["reason"] == "upload_too_large" and error["limit_bytes"] == SMALL_LIMIT


def test_oversize_is_refused_while_streaming_without_content_length(client):
    boundary = "ecgstreamtestboundary"
    head = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in FORM.items()
    )
    head += f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.dcm"\r\n\r\n'

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer encoding
        yield head.encode()
        for _ in range(SMALL_LIMIT * 3 // 65536):
            yield b"\1" * 65536
        yield f"\r\n--{boundary}--\r\n".encode()

    response = client.post(
        "/api/recordings",
        content=chunks(),
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 413 and _error(response)["reason"] == "upload_too_large"


@pytest.mark.parametrize(
    ("field", "value", "phrase"),
    [
        ("age", "-3", "between 0 and 120"),
        ("age", "abc", "must be a number"),
        ("age", "", "age is required"),
        ("age", "40.5", "whole number"),
        ("sex", "X", "M (male) or F (female)"),
        ("height_cm", "1.75", "between 30 and 250 cm"),
        ("weight_kg", "nan", "between 1 and 350 kg"),
    ],
)
def test_bad_form_fields_give_422_naming_the_field(client, dicom_file, field, value, phrase):
    response = client.post("/api/recordings", data={**FORM, field: value}, files=_files(dicom_file))
    assert response.status_code == 422, response.text
    error = _error(response)
    assert error["reason"] == "invalid_field" and error["field"] == field and phrase in error["message"]


def test_not_multipart_is_415(client):
    response = client.post("/api/recordings", json=FORM)
    assert response.status_code == 415 and _error(response)["reason"] == "not_multipart"


def test_unknown_and_malformed_ids(client):
    response = client.get(f"/api/recordings/{uuid.uuid4()}")  # neither uploaded here nor diagnosed
    assert response.status_code == 404 and _error(response)["reason"] == "unknown_recording"
    response = client.get("/api/recordings/" + "x" * 200)
    assert response.status_code == 404 and _error(response)["reason"] == "unknown_recording"
    response = client.get("/no/such/page")
    assert response.status_code == 404 and _error(response)["reason"] == "not_found"


def test_healthz_and_page(client):
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}
    page = client.get("/")
    assert page.status_code == 200 and "not a medical device" in page.text
    assert f'data-max-upload-bytes="{SMALL_LIMIT}"' in page.text
    assert "http://" not in page.text and "https://" not in page.text  # nothing loads from elsewhere
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for asset in ("/static/app.js", "/static/style.css"):
        assert client.get(asset).status_code == 200


def test_unexpected_errors_are_a_generic_500_without_details(client, dicom_file, monkeypatch, caplog):
    from webapp.service import UploadService

    async def broken(self, files, fields):
        raise RuntimeError("boom at /srv/secret/path")

    monkeypatch.setattr(UploadService, "submit", broken)
    response = client.post("/api/recordings", data=FORM, files=_files(dicom_file))
    assert response.status_code == 500
    assert _error(response)["reason"] == "internal_error"
    assert "boom" not in response.text and "/srv" not in response.text and "Traceback" not in response.text
    assert any("unexpected error" in r.getMessage() and r.exc_info for r in caplog.records)


def test_real_cinc_dicom_is_not_oversize_with_default_limits(settings, token, tmp_path):
    path = cinc_as_dicom(tmp_path)
    with serve_gateway(settings, settings.kafka_bootstrap) as url:
        response = httpx.post(
            f"{url}/api/recordings", data=FORM, files=_files(path), timeout=30,
            headers={"Authorization": f"Bearer {token}"},
        )  # fmt: skip
    assert response.status_code == 202, response.text
