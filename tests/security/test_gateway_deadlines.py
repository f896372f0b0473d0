"""Issue 18, finding 4: header and body deadlines on every route, and a login flood that delays nobody.

Before the fix only upload bodies timed out: partial headers, a ``POST /login`` body and a
``POST /api/patients/history`` body stayed open after 75 s (20 of 20 sockets), and a 200-way login
flood delayed a real sign-in to 7 s. Clients here are raw sockets (the test decides when each byte
arrives) against a real uvicorn configured as ``ecgstream gateway`` runs it, and against the real
``ecgstream gateway`` command. Deadlines are 1 s; the bounds asserted are generous (a loaded core).
"""

from __future__ import annotations

import os
import re
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from ecgstream.embedded import free_port
from storage import upgrade
from tests.e2e.helpers import TEST_PATIENT_SECRET, isolated_settings
from tests.webapp.conftest import api_token, login_user, serve_gateway

pytestmark = pytest.mark.integration

DEADLINE_S = 1.0
CLOSE_BOUND_S = 8.0  # the deadline plus a loaded machine's slack; before the fix: never
PASSWORD = "correct horse battery staple"
FLOOD = 300  # before the fix the real sign-in queued behind all of them


@pytest.fixture
def gateway(tansu, fresh_postgres_url, unique_name, tmp_path) -> Iterator[tuple[str, str]]:
    upgrade(fresh_postgres_url)
    settings = isolated_settings(tansu.bootstrap, fresh_postgres_url, tmp_path / "home", unique_name,
                                 request_header_timeout_seconds=DEADLINE_S, request_body_timeout_seconds=DEADLINE_S,
                                 upload_body_timeout_seconds=DEADLINE_S)  # fmt: skip
    token = api_token(fresh_postgres_url, "admin")
    with serve_gateway(settings, tansu.bootstrap) as url:
        yield url, token


@pytest.fixture
def login_gateway(tansu, fresh_postgres_url, unique_name, tmp_path) -> Iterator[str]:
    """Default deadlines (a 300-request flood keeps one loaded core busy for more than 1 s)."""
    upgrade(fresh_postgres_url)
    settings = isolated_settings(tansu.bootstrap, fresh_postgres_url, tmp_path / "home", unique_name,
                                 login_max_pending=8)  # fmt: skip
    login_user(fresh_postgres_url, "doctor", PASSWORD)
    with serve_gateway(settings, tansu.bootstrap) as url:
        yield url


def _address(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


def _closed_within(sockets: list[socket.socket], bound: float) -> tuple[list[float], list[bytes]]:
    """Seconds until the server closed each socket (inf when it did not within ``bound``), and what it sent."""
    started = time.monotonic()
    closed_at = [float("inf")] * len(sockets)
    received = [b""] * len(sockets)
    open_ = set(range(len(sockets)))
    while open_ and time.monotonic() - started < bound:
        ready, _, _ = select.select([sockets[i] for i in open_], [], [], 0.1)
        for sock in ready:
            index = sockets.index(sock)
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            received[index] += chunk
            if not chunk:
                closed_at[index] = time.monotonic() - started
                open_.discard(index)
    for sock in sockets:
        sock.close()
    return closed_at, received


def _partial_requests(url: str, token: str) -> dict[str, bytes]:
    head = f"Host: test\r\nAuthorization: Bearer {token}\r\n"
    return {
        "nothing": b"",
        "partial headers": b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Slow: 1",
        "login body": (b"POST /login HTTP/1.1\r\nHost: test\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                       b"Content-Length: 100\r\n\r\nusername=doct"),
        "patient history body": (f"POST /api/patients/history HTTP/1.1\r\n{head}Content-Type: application/json\r\n"
                                 "Content-Length: 100\r\n\r\n{\"patient_ref\": ").encode(),
        "body nobody reads": b"POST /healthz HTTP/1.1\r\nHost: test\r\nContent-Length: 100\r\n\r\nabc",
    }  # fmt: skip


def test_slow_senders_are_cut_off_on_every_route(gateway):
    url, token = gateway
    requests = _partial_requests(url, token)
    sockets = []
    for payload in requests.values():
        for _ in range(4):  # 20 sockets, as in the finding
            sock = socket.create_connection(_address(url), timeout=5)
            sock.sendall(payload)
            sockets.append(sock)
    closed_at, received = _closed_within(sockets, CLOSE_BOUND_S + 6)  # the unread body closes at +5 s backstop
    names = [name for name in requests for _ in range(4)]
    figures = {name: max(t for n, t in zip(names, closed_at, strict=True) if n == name) for name in requests}
    print(f"\nDEADLINE-FIGURES seconds until the last of 4 sockets was closed: {figures}")
    assert all(t < float("inf") for t in closed_at), figures
    for name, answer in zip(names, received, strict=True):
        if name in {"login body", "patient history body"}:
            assert answer.startswith(b"HTTP/1.1 408 "), (name, answer[:200])
            assert b'"request_timeout"' in answer
        if name == "partial headers":
            assert answer.startswith(b"HTTP/1.1 408 ")
    assert max(figures["partial headers"], figures["login body"], figures["patient history body"]) < CLOSE_BOUND_S
    assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200


def test_the_gateway_command_itself_cuts_off_partial_headers(tmp_path, tansu, fresh_postgres_url):
    """`ecgstream gateway` (what `ecgstream up` starts) as an OS process, not a test's uvicorn."""
    upgrade(fresh_postgres_url)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"KAFKA_BOOTSTRAP", "DATABASE_URL", "ECGSTREAM_EMBEDDED_STACK"}}
    env.update(KAFKA_BOOTSTRAP=tansu.bootstrap, DATABASE_URL=fresh_postgres_url, PATIENT_HMAC_SECRET=TEST_PATIENT_SECRET,
               GATEWAY_PORT=str(port), ECGSTREAM_HOME=str(tmp_path), LOG_LEVEL="WARNING",
               REQUEST_HEADER_TIMEOUT_SECONDS=str(DEADLINE_S))  # fmt: skip
    process = subprocess.Popen([sys.executable, "-m", "ecgstream.cli", "gateway"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        assert process.poll() is None, process.stdout.read().decode()[-2000:] if process.stdout else ""
        sockets = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(10)]
        for sock in sockets[5:]:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n")
        closed_at, _ = _closed_within(sockets, CLOSE_BOUND_S)
    finally:
        process.terminate()
        process.wait(30)
    print(f"\nDEADLINE-FIGURES ecgstream gateway: the last of 10 partial requests closed after {max(closed_at):.1f} s")
    assert max(closed_at) < CLOSE_BOUND_S


def _csrf(client: httpx.Client) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert match
    return match.group(1)


def _flood(url: str, cookie: str, csrf: str, n: int) -> list[socket.socket]:
    """``n`` complete sign-in requests for unknown names, every byte sent before this returns."""
    body = f"username=nobody&password=guess&csrf_token={csrf}".encode()
    request = (f"POST /login HTTP/1.1\r\nHost: test\r\nCookie: {cookie}\r\nConnection: close\r\n"
               f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
    sockets = []
    for _ in range(n):
        sock = socket.create_connection(_address(url), timeout=30)
        sock.sendall(request)
        sockets.append(sock)
    return sockets


def _statuses(sockets: list[socket.socket]) -> list[bytes]:
    _, answers = _closed_within(sockets, 300)
    return [answer[9:12] for answer in answers]


def test_a_login_flood_is_refused_at_once_and_a_real_sign_in_gets_through(login_gateway):
    url = login_gateway
    with httpx.Client(base_url=url, timeout=30) as client:
        csrf = _csrf(client)
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    flood = _flood(url, cookie, csrf, FLOOD)  # all of it is in before the person presses "Sign in"
    started = time.monotonic()
    with httpx.Client(base_url=url, timeout=300) as person:
        token = _csrf(person)
        while True:
            answer = person.post("/login", data={"username": "doctor", "password": PASSWORD, "csrf_token": token})
            if answer.status_code != 503:
                break
            time.sleep(float(answer.headers["retry-after"]))  # then "Sign in" again on the form it showed
            token = re.search(r'name="csrf_token" value="([^"]+)"', answer.text).group(1)  # type: ignore[union-attr]
    signed_in_after = time.monotonic() - started
    statuses = _statuses(flood)
    print(f"\nLOGIN-FLOOD-FIGURES real sign-in after {signed_in_after:.1f} s; flood answers: "
          f"{statuses.count(b'401')} x 401, {statuses.count(b'503')} x 503")  # fmt: skip
    assert answer.status_code == 303, answer.text[:300]
    assert statuses.count(b"503") > FLOOD // 2, "most of the flood is refused at once, not queued"
    assert signed_in_after < 8.0
