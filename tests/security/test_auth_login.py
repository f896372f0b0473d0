"""People on the page: sign in, CSRF, sign out, lockout, disabled users and trusted SSO headers.

Real uvicorn, real Postgres, real broker; users are made by the real `ecgstream user` command or
the storage function it calls. Regression tests for issue 10, finding 8.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from storage import upgrade
from tests.e2e.helpers import isolated_settings
from tests.webapp.conftest import cinc_as_dicom, serve_gateway

pytestmark = pytest.mark.integration

FORM = {"age": "61", "sex": "F", "height_cm": "164.5", "weight_kg": "70"}
PASSWORD = "correct horse battery staple"
LOGIN_FAILED = "Wrong user name or password, or the account is locked for a while after repeated failures."


def login_user(database_url: str, username: str, password: str) -> None:
    from tests.webapp.conftest import login_user as create

    create(database_url, username, password)


@pytest.fixture
def settings(tansu, fresh_postgres_url, unique_name, tmp_path):
    upgrade(fresh_postgres_url)
    return isolated_settings(
        tansu.bootstrap, fresh_postgres_url, tmp_path / "home", unique_name, login_max_failures=3
    )


@pytest.fixture
def base_url(settings) -> Iterator[str]:
    with serve_gateway(settings, settings.kafka_bootstrap) as url:
        yield url


@pytest.fixture
def dicom(tmp_path) -> Path:
    return cinc_as_dicom(tmp_path / "files")


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the form carries a CSRF token"
    return match.group(1)


def _sign_in(client: httpx.Client, username: str, password: str) -> httpx.Response:
    form = client.get("/login")
    assert form.status_code == 200
    return client.post("/login", data={"username": username, "password": password, "csrf_token": _csrf(form.text)})


def _upload(client: httpx.Client, path: Path, **extra: str) -> httpx.Response:
    files = [("file", (path.name, path.read_bytes(), "application/dicom"))]
    return client.post("/api/recordings", data={**FORM, **extra}, files=files)


def test_user_cli_then_sign_in_upload_read_and_sign_out(settings, base_url, dicom):
    env = {**os.environ, "DATABASE_URL": settings.database_url}
    made = subprocess.run([sys.executable, "-m", "ecgstream.cli", "user", "create", "nurse", "--password-stdin"],
                          input=PASSWORD + "\n", env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert made.returncode == 0, made.stderr
    with httpx.Client(base_url=base_url, timeout=30) as client:
        signed_in = _sign_in(client, "nurse", PASSWORD)
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/"
        cookie = next(v for k, v in signed_in.headers.multi_items() if k == "set-cookie" and "ecgstream_session=" in v)
        assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower() and "max-age=28800" in cookie.lower()

        page = client.get("/")
        assert page.status_code == 200 and 'id="signed-in-user">nurse<' in page.text
        token = _csrf(page.text)

        without_csrf = _upload(client, dicom)
        assert without_csrf.status_code == 403 and without_csrf.json()["error"]["reason"] == "csrf_failed"
        forged = _upload(client, dicom, csrf_token="0" * 64)
        assert forged.status_code == 403
        accepted = _upload(client, dicom, csrf_token=token)
        assert accepted.status_code == 202, accepted.text
        result = client.get(f"/api/recordings/{accepted.json()['recording_id']}")
        assert result.status_code == 200 and result.json()["status"] == "pending"

        assert client.post("/logout", data={"csrf_token": "wrong"}).status_code == 403  # CSRF on sign-out too
        out = client.post("/logout", data={"csrf_token": token})
        assert out.status_code == 303 and out.headers["location"] == "/login"
        stolen_cookie = signed_in.cookies["ecgstream_session"]
    # the session is gone server-side: the old cookie no longer works
    after = httpx.get(f"{base_url}/api/recordings/{accepted.json()['recording_id']}",
                      cookies={"ecgstream_session": stolen_cookie})  # fmt: skip
    assert after.status_code == 401


def test_login_form_needs_its_csrf_cookie(settings, base_url):
    login_user(settings.database_url, "nurse", PASSWORD)
    response = httpx.post(f"{base_url}/login", data={"username": "nurse", "password": PASSWORD, "csrf_token": "x"})
    assert response.status_code == 403 and "ecgstream_session" not in response.headers.get("set-cookie", "")


def test_repeated_failures_lock_the_account(settings, base_url):
    login_user(settings.database_url, "nurse", PASSWORD)
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for _ in range(settings.login_max_failures):
            failed = _sign_in(client, "nurse", "wrong password!")
            assert failed.status_code == 401 and LOGIN_FAILED in failed.text
        locked = _sign_in(client, "nurse", PASSWORD)  # the right password, but locked now
        assert locked.status_code == 401 and LOGIN_FAILED in locked.text
        unknown = _sign_in(client, "nobody", PASSWORD)  # the same answer: names are not confirmed
        assert unknown.status_code == 401 and LOGIN_FAILED in unknown.text

    async def locked_until() -> object:
        from sqlalchemy import select

        from storage import create_engine
        from storage.auth_models import User

        engine = create_engine(settings.database_url)
        try:
            async with engine.connect() as conn:
                return (await conn.execute(select(User.locked_until).where(User.username == "nurse"))).scalar_one()
        finally:
            await engine.dispose()

    assert asyncio.run(locked_until()) is not None


def test_disabled_user_loses_the_session(settings, base_url):
    login_user(settings.database_url, "nurse", PASSWORD)
    with httpx.Client(base_url=base_url, timeout=30) as client:
        assert _sign_in(client, "nurse", PASSWORD).status_code == 303
        assert client.get("/").status_code == 200
        env = {**os.environ, "DATABASE_URL": settings.database_url}
        disabled = subprocess.run([sys.executable, "-m", "ecgstream.cli", "user", "disable", "nurse"],
                                  env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
        assert disabled.returncode == 0, disabled.stderr
        assert client.get("/").status_code == 303  # back to /login
        assert _sign_in(client, "nurse", PASSWORD).status_code == 401


@pytest.mark.parametrize(("trusted", "believed"), [("10.255.0.0/16", False), ("127.0.0.1/32", True)])
def test_sso_header_only_from_trusted_proxies(settings, dicom, trusted, believed, caplog):
    settings = settings.with_overrides(trusted_proxy_cidrs=trusted)
    sso = {"X-Forwarded-User": "dr.house", "X-Forwarded-For": "10.255.0.7"}  # XFF must not move the peer
    with serve_gateway(settings, settings.kafka_bootstrap) as url:
        with httpx.Client(base_url=url, timeout=30, headers=sso) as client:
            page = client.get("/")
            if not believed:
                assert page.status_code == 303 and page.headers["location"] == "/login"
                assert _upload(client, dicom).status_code == 401
                assert any("untrusted address ignored" in r.getMessage() for r in caplog.records)
                return
            assert page.status_code == 200 and 'id="signed-in-user">dr.house<' in page.text
            assert _upload(client, dicom).status_code == 403  # browser-borne: CSRF token required
            accepted = _upload(client, dicom, csrf_token=_csrf(page.text))
            assert accepted.status_code == 202, accepted.text
            assert client.get(f"/api/recordings/{accepted.json()['recording_id']}").status_code == 200
