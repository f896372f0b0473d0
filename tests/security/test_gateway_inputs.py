"""Issue 18, findings 8, 13 and 14 over real HTTP (real uvicorn as ``ecgstream gateway`` runs it, real
Tansu broker, real Postgres), plus the same device ids through ``ecgstream publish``'s code path.

8: inputs that gave 500s with a traceback (Unicode digits, year 9999, a 1000-deep JSON body, a lone
surrogate) are 422s naming the problem. 13: device ids read from files pass the form's rule (same
function, ``schemas.identifiers``). 14: ``/openapi.json`` needs a credential like every API route.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ingest.writers import write_dicom
from ingest.writers.aecg import write_aecg
from storage import upgrade
from tests.e2e.helpers import isolated_settings
from tests.faults.messages import synthetic_recording
from tests.webapp.conftest import api_token, bearer, serve_gateway

pytestmark = pytest.mark.integration

FORM = {"age": "61", "sex": "F", "height_cm": "164", "weight_kg": "70"}


@pytest.fixture
def gateway(tansu, fresh_postgres_url, unique_name, tmp_path) -> Iterator[tuple[str, str, object]]:
    upgrade(fresh_postgres_url)
    settings = isolated_settings(tansu.bootstrap, fresh_postgres_url, tmp_path / "home", unique_name)
    token = api_token(fresh_postgres_url, "admin")
    with serve_gateway(settings, tansu.bootstrap) as url:
        yield url, token, settings


QUERIES = [  # (query string, field) that answered 500 before
    ("statement=%C2%B2", "statement"),  # '²': str.isdigit() is True, int() fails
    ("page=%C2%B2", "page"),
    ("page_size=%D9%A1%D9%A2", "page_size"),  # Arabic-Indic "12"
    ("page=" + "1" * 5000, "page"),  # above int()'s 4300-digit limit
    ("until=9999-12-31", "until"),  # the day after does not exist
    ("since=9999-12-31T23:30:00-05:00", "since"),  # beyond datetime once in UTC
]


@pytest.mark.parametrize(("query", "field"), QUERIES)
def test_bad_list_parameters_are_422_naming_the_parameter(gateway, caplog, query, field):
    url, token, _ = gateway
    caplog.set_level(logging.ERROR)
    answer = httpx.get(f"{url}/api/recordings?{query}", headers=bearer(token), timeout=30)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field
    assert not [r for r in caplog.records if r.exc_info], "no traceback for a bad parameter"


BODIES = [  # raw JSON bodies of the patient history that answered 500 before
    b'{"patient_ref": ' + b"[" * 1000 + b"]" * 1000 + b"}",
    b'{"patient_ref": "\\ud800"}',
    b'{"patient_ref": "MRN-1", "status": "\\udfff"}',
    b'{"patient_ref": "MRN-1", "page": {"a": {"b": 1}}}',
]


@pytest.mark.parametrize("body", BODIES, ids=["deep", "surrogate", "surrogate-in-filter", "nested"])
def test_hostile_patient_history_bodies_are_422(gateway, caplog, body):
    url, token, _ = gateway
    caplog.set_level(logging.ERROR)
    answer = httpx.post(f"{url}/api/patients/history", content=body, timeout=30,
                        headers={**bearer(token), "content-type": "application/json"})  # fmt: skip
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["reason"] in {"invalid_json", "invalid_text"}
    assert not [r for r in caplog.records if r.exc_info]


def test_openapi_needs_a_credential(gateway):
    url, token, _ = gateway
    anonymous = httpx.get(f"{url}/openapi.json", timeout=30)
    assert anonymous.status_code == 401 and "openapi" not in anonymous.text
    assert httpx.get(f"{url}/docs", timeout=30).status_code == 404
    described = httpx.get(f"{url}/openapi.json", headers=bearer(token), timeout=30)
    assert described.status_code == 200 and "/api/recordings" in described.json()["paths"]


def _hostile_device_files(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    script = synthetic_recording(5)
    script.device_id = "<script>alert(1)</script>"
    huge = synthetic_recording(6)
    huge.device_id = "D" * 1_000_000
    return {"script": write_dicom(script, folder / "script.dcm"), "huge": write_aecg(huge, folder / "huge.xml")}


def test_device_ids_from_files_follow_the_forms_rule(gateway, tmp_path):
    url, token, _ = gateway
    files = _hostile_device_files(tmp_path / "files")
    with httpx.Client(base_url=url, headers=bearer(token), timeout=60) as http:
        for name, path in files.items():
            answer = http.post("/api/recordings", data=FORM, files=[("file", (path.name, path.read_bytes()))])
            assert answer.status_code == 422, (name, answer.text)
            assert answer.json()["error"]["reason"] == "invalid_device_id"
            assert "<script>" not in answer.text and "DDDD" not in answer.text
        # the form's own device id replaces the file's, as before
        fixed = http.post("/api/recordings", data={**FORM, "device_id": "cart-7"},
                          files=[("file", (files["script"].name, files["script"].read_bytes()))])  # fmt: skip
        assert fixed.status_code == 202, fixed.text
        bad_form = http.post("/api/recordings", data={**FORM, "device_id": "<b>"},
                             files=[("file", (files["script"].name, files["script"].read_bytes()))])  # fmt: skip
        assert bad_form.status_code == 422 and bad_form.json()["error"]["field"] == "device_id"


def test_publish_refuses_the_same_device_ids(gateway, tmp_path):
    from ecgstream.commands.publish import publish_paths

    _, _, settings = gateway
    files = _hostile_device_files(tmp_path / "files")
    summary = asyncio.run(publish_paths([str(path) for path in files.values()], bootstrap=settings.kafka_bootstrap,
                                        topic=settings.recordings_topic, progress=False))  # fmt: skip
    assert summary.published == 0
    assert sorted(reason for _, reason, _ in summary.rejected) == ["invalid_device_id", "invalid_device_id"]
