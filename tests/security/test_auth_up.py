"""`ecgstream up` on the embedded default keeps working with authentication: it prints a one-time
admin login for its gateway, which signs in on the real page (a new password every start)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import httpx
import pytest

from ecgstream.embedded import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_up_prints_an_admin_login_that_signs_in(tmp_path):
    drop = {"KAFKA_BOOTSTRAP", "DATABASE_URL", "PATIENT_HMAC_SECRET"}
    env = {key: value for key, value in os.environ.items() if key not in drop}
    port = free_port()
    env.update(ECGSTREAM_HOME=str(tmp_path / "home"), METRICS_PORT="0", LOG_LEVEL="WARNING")
    env.pop("GATEWAY_PORT", None)
    up = subprocess.Popen([sys.executable, "-m", "ecgstream.cli", "up", "--port", str(port)], env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    assert up.stdout is not None
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 180
        password = None
        while password is None and time.monotonic() < deadline and up.poll() is None:
            line = up.stdout.readline()
            lines.append(line)
            match = re.search(r"sign in as admin / (\S+) ", line)
            password = match.group(1) if match else None
        assert password, "".join(lines)[-3000:]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            assert client.get("/").status_code == 303  # signed out: to /login
            form = client.get("/login").text
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
            assert csrf
            signed_in = client.post("/login", data={"username": "admin", "password": password,
                                                    "csrf_token": csrf.group(1)})  # fmt: skip
            assert signed_in.status_code == 303
            assert client.get("/").status_code == 200
    finally:
        up.send_signal(signal.SIGTERM)
        output, _ = up.communicate(timeout=90)
    assert up.returncode == 0, ("".join(lines) + output)[-3000:]
    assert password not in output  # printed once
