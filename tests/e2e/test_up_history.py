"""`ecgstream up` with its web gateway on the true embedded default (own Tansu broker, a SQLite
file, one worker), as OS processes: sign in as the printed admin, upload two recordings of one
patient through the page's API, then the history, the patient history and the serial comparison."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from ecgstream.embedded import free_port
from ingest.synthetic import write_sph_dataset

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PATIENT_REF = "MRN-UP-7"
_LOGIN = re.compile(r"sign in as admin / (\S+)")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _read_output(process: subprocess.Popen[bytes], lines: list[str]) -> None:
    assert process.stdout is not None
    for raw in process.stdout:
        lines.append(raw.decode(errors="replace"))


def _admin_password(lines: list[str], process: subprocess.Popen[bytes], timeout: float = 120.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        for line in list(lines):
            found = _LOGIN.search(line)
            if found:
                return found.group(1)
        time.sleep(0.2)
    raise AssertionError("ecgstream up printed no admin login:\n" + "".join(lines)[-3000:])


def _sign_in(http: httpx.Client, password: str) -> str:
    """The login form (double-submit CSRF), then the page's session-bound CSRF token."""
    form = _CSRF.search(http.get("/login").text)
    assert form is not None
    signed_in = http.post("/login", data={"username": "admin", "password": password, "csrf_token": form.group(1)})
    assert signed_in.status_code == 303, signed_in.text
    page = _CSRF.search(http.get("/").text)
    assert page is not None
    return page.group(1)


def _upload(http: httpx.Client, csrf: str, path: Path) -> str:
    form = {"age": "64", "sex": "M", "height_cm": "175", "weight_kg": "80", "patient_ref": PATIENT_REF, "csrf_token": csrf}
    response = http.post("/api/recordings", data=form, files=[("file", (path.name, path.read_bytes(), "application/x-hdf5"))])
    assert response.status_code == 202, response.text
    recording_id = str(response.json()["recording_id"])
    deadline = time.monotonic() + 180
    while http.get(f"/api/recordings/{recording_id}").json().get("status") != "done":
        assert time.monotonic() < deadline, f"{recording_id} not diagnosed"
        time.sleep(0.5)
    return recording_id


def test_up_serves_history_patient_history_and_comparison(tmp_path):
    home, port = tmp_path / "home", free_port()
    env = {key: value for key, value in os.environ.items() if key not in {"KAFKA_BOOTSTRAP", "DATABASE_URL"}}
    env.update(ECGSTREAM_HOME=str(home), GATEWAY_PORT=str(port), METRICS_PORT="0", LOG_LEVEL="INFO",
               PYTHONUNBUFFERED="1")  # fmt: skip
    data = write_sph_dataset(tmp_path / "sph", 2, seed=5)
    up = subprocess.Popen([sys.executable, "-m", "ecgstream.cli", "up"], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=_read_output, args=(up, lines), daemon=True)
    reader.start()
    try:
        password = _admin_password(lines, up)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            csrf = _sign_in(http, password)
            first, second = (_upload(http, csrf, path) for path in sorted((data / "records").glob("*.h5")))

            assert "Patient history" in http.get("/history").text
            listed = http.get("/api/recordings").json()["items"]
            assert [item["recording_id"] for item in listed] == [second, first]
            assert {item["status"] for item in listed} <= {"normal", "abnormal", "unreadable", "no_statement"}
            patient = http.post("/api/patients/history", json={"patient_ref": PATIENT_REF}, headers={"X-CSRF-Token": csrf})
            assert [item["recording_id"] for item in patient.json()["items"]] == [second, first]
            assert http.post("/api/patients/history", json={"patient_ref": PATIENT_REF}).status_code == 403  # no CSRF
            comparison = http.get(f"/api/recordings/{second}/comparison").json()
            assert comparison["previous"]["recording_id"] == first
            assert len(comparison["measurement_changes"]) == 8
            assert http.get(comparison["previous"]["tracing_url"]).headers["content-type"] == "image/svg+xml"
    finally:
        up.send_signal(signal.SIGTERM)
        up.wait(timeout=60)
        reader.join(10)
    assert up.returncode == 0, "".join(lines)[-2000:]
    # the INFO logs of every process (the access log is quiet below DEBUG: tests/webapp/test_history_api.py
    # reads it in-process): the patient-history request is logged, the reference nowhere
    everything = "".join(lines) + "".join(log.read_text(errors="replace") for log in home.rglob("*.log"))
    assert "patient history read" in everything
    assert PATIENT_REF not in everything
