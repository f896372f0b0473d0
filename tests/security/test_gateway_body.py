"""Findings 11 and 12: request bodies are bounded in time and size, aborts log one line, one limit quoted.

A real uvicorn serves the gateway (real Tansu broker, real Postgres); clients are raw sockets, so the
test controls exactly when bytes arrive and when the connection dies.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from storage import upgrade
from tests.e2e.helpers import isolated_settings
from tests.webapp.conftest import api_token, serve_gateway
from webapp.errors import format_size

pytestmark = pytest.mark.integration

UPLOAD_LIMIT = 256 * 1024
BOUNDARY = "ecgstreamboundary"
FORM_HEAD = (
    "".join(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
            for k, v in {"age": "61", "sex": "F", "height_cm": "164", "weight_kg": "70"}.items())
    + f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.dcm"\r\n\r\n'
).encode()  # fmt: skip


@pytest.fixture
def gateway(tansu, fresh_postgres_url, unique_name, tmp_path) -> Iterator[str]:
    global TOKEN
    upgrade(fresh_postgres_url)
    TOKEN = api_token(fresh_postgres_url, "admin")
    settings = isolated_settings(tansu.bootstrap, fresh_postgres_url, tmp_path / "home", unique_name,
                                 upload_body_timeout_seconds=1.0)  # fmt: skip
    with serve_gateway(settings, tansu.bootstrap, max_upload_bytes=UPLOAD_LIMIT) as url:
        yield url


TOKEN = ""  # an admin API token of the running gateway (set by the fixture): uploads need one


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=15)
    return sock


def _request_head(length: int | None) -> bytes:
    lines = ["POST /api/recordings HTTP/1.1", "Host: test", f"Authorization: Bearer {TOKEN}",
             f"Content-Type: multipart/form-data; boundary={BOUNDARY}"]
    lines.append(f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _response(sock: socket.socket) -> tuple[int, dict]:
    data = b""
    while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    return status, json.loads(body[body.index(b"{"):]) if b"{" in body else {}


def _wait_for(predicate, what: str, timeout: float = 15.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not (found := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return found


def test_aborted_uploads_log_one_warning_each_without_traceback(gateway, caplog):
    caplog.set_level(logging.INFO)
    aborts = 5
    for _ in range(aborts):
        sock = _connect(gateway)
        sock.sendall(_request_head(UPLOAD_LIMIT // 2) + FORM_HEAD + b"\0" * 10_000)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")  # RST on close
        sock.close()

    def disconnects() -> list[logging.LogRecord]:
        found = [r for r in caplog.records if "client disconnected" in r.getMessage()]
        return found if len(found) >= aborts else []

    found = _wait_for(disconnects, "one log record per aborted upload")
    time.sleep(0.5)  # let anything the server would log after the abort arrive
    assert len([r for r in caplog.records if "client disconnected" in r.getMessage()]) == aborts
    assert all(r.levelno == logging.WARNING for r in found)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "an abort is not a server error"
    assert not [r for r in caplog.records if r.exc_info], "no traceback for a client that went away"


def test_a_slow_sender_gets_408_and_the_gateway_keeps_serving(gateway):
    sock = _connect(gateway)
    sock.sendall(_request_head(UPLOAD_LIMIT // 2) + FORM_HEAD)
    for _ in range(3):  # slowloris: a few bytes now and then, never the whole body
        time.sleep(0.5)
        try:
            sock.sendall(b"\0" * 10)
        except OSError:
            break
    status, body = _response(sock)
    sock.close()
    assert status == 408 and body["error"]["reason"] == "upload_timeout"
    assert httpx.get(f"{gateway}/healthz", timeout=10).status_code == 200


def test_the_413_answer_quotes_one_limit_whichever_check_fires(gateway):
    declared = _connect(gateway)  # Content-Length above the limit: refused before the body is read
    declared.sendall(_request_head(UPLOAD_LIMIT * 3) + FORM_HEAD)
    status_declared, body_declared = _response(declared)
    declared.close()
    streamed = _connect(gateway)  # chunked, no length: refused while streaming
    streamed.sendall(_request_head(None))
    payload = FORM_HEAD + b"\0" * (UPLOAD_LIMIT * 2)
    for start in range(0, len(payload), 65536):
        part = payload[start : start + 65536]
        try:
            streamed.sendall(f"{len(part):x}\r\n".encode() + part + b"\r\n")
        except OSError:
            break
    status_streamed, body_streamed = _response(streamed)
    streamed.close()
    page = httpx.get(gateway, timeout=10, headers={"Authorization": f"Bearer {TOKEN}"}).text

    assert status_declared == status_streamed == 413
    assert body_declared["error"] == body_streamed["error"]
    assert body_declared["error"]["limit_bytes"] == UPLOAD_LIMIT
    assert format_size(UPLOAD_LIMIT) in body_declared["error"]["message"]
    assert f"Up to {format_size(UPLOAD_LIMIT)}" in page
