"""API tokens against the real gateway (uvicorn on a free port), the real Tansu broker and Postgres.

Tokens are made by the real `ecgstream token` command as an OS process, so the CLI is covered too.
Regression tests for issue 10, finding 8: before, every request was served without credentials.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from storage import upgrade
from tests.e2e.helpers import isolated_settings
from tests.webapp.conftest import cinc_as_dicom, serve_gateway

pytestmark = pytest.mark.integration

FORM = {"age": "61", "sex": "F", "height_cm": "164.5", "weight_kg": "70"}


@pytest.fixture
def settings(tansu, fresh_postgres_url, unique_name, tmp_path):
    upgrade(fresh_postgres_url)
    return isolated_settings(tansu.bootstrap, fresh_postgres_url, tmp_path / "home", unique_name)


@pytest.fixture
def base_url(settings) -> Iterator[str]:
    with serve_gateway(settings, settings.kafka_bootstrap) as url:
        yield url


@pytest.fixture
def dicom(tmp_path) -> Path:
    return cinc_as_dicom(tmp_path / "files")


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "ecgstream.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


def _cli_token(database_url: str, name: str, *scopes: str) -> str:
    result = _cli(database_url, "token", "create", "--name", name, "--scope", *scopes)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _upload(url: str, path: Path, headers: dict[str, str]) -> httpx.Response:
    files = [("file", (path.name, path.read_bytes(), "application/dicom"))]
    return httpx.post(f"{url}/api/recordings", data=FORM, files=files, headers=headers, timeout=30)


def test_no_credentials_is_401_everywhere_but_health(base_url, dicom):
    response = _upload(base_url, dicom, {})
    assert response.status_code == 401 and response.json()["error"]["reason"] == "unauthenticated"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert httpx.get(f"{base_url}/api/recordings/{uuid.uuid4()}").status_code == 401
    for header in ("Basic YWRtaW46YWRtaW4=", "Bearer not-a-token", "Bearer"):
        assert httpx.get(f"{base_url}/api/recordings/x", headers={"Authorization": header}).status_code == 401
    page = httpx.get(f"{base_url}/")
    assert page.status_code == 303 and page.headers["location"] == "/login"
    assert httpx.get(f"{base_url}/healthz").status_code == 200


def test_scopes_uploader_reads_own_others_get_404(settings, base_url, dicom):
    db = settings.database_url
    cart = _cli_token(db, "cart-7", "recordings:write", "recordings:read")
    other_cart = _cli_token(db, "cart-8", "recordings:write", "recordings:read")
    reader = _cli_token(db, "ris", "results:read:all")
    write_only = _cli_token(db, "cart-9", "recordings:write")

    denied = _upload(base_url, dicom, _bearer(reader))  # wrong scope
    assert denied.status_code == 403 and denied.json()["error"]["reason"] == "forbidden"
    assert "recordings:write" in denied.json()["error"]["message"]

    accepted = _upload(base_url, dicom, _bearer(cart))
    assert accepted.status_code == 202, accepted.text
    recording_id = accepted.json()["recording_id"]
    path = f"{base_url}/api/recordings/{recording_id}"

    assert httpx.get(path, headers=_bearer(cart)).json()["status"] == "pending"  # the uploader
    assert httpx.get(path, headers=_bearer(reader)).json()["status"] == "pending"  # read-all scope
    foreign = httpx.get(path, headers=_bearer(other_cart))  # another principal: as if it did not exist
    unknown = httpx.get(f"{base_url}/api/recordings/{uuid.uuid4()}", headers=_bearer(other_cart))
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json() == unknown.json() == {
        "error": {"reason": "unknown_recording", "message": "no such recording"}
    }
    assert httpx.get(path, headers=_bearer(write_only)).status_code == 403  # cannot read at all


def test_revoked_and_expired_tokens_are_401(settings, base_url, dicom):
    from tests.webapp.conftest import api_token

    db = settings.database_url
    token = _cli_token(db, "cart-revoked", "recordings:write")
    assert _upload(base_url, dicom, _bearer(token)).status_code == 202
    token_id = token.split("_")[1]
    listed = _cli(db, "token", "list")
    assert token_id in listed.stdout and "cart-revoked" in listed.stdout and token not in listed.stdout
    revoked = _cli(db, "token", "revoke", token_id)
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    response = _upload(base_url, dicom, _bearer(token))
    assert response.status_code == 401 and "revoked" in response.json()["error"]["message"]
    assert _cli(db, "token", "revoke", token_id).returncode == 1  # already revoked

    expired = api_token(db, "recordings:write", expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert _upload(base_url, dicom, _bearer(expired)).status_code == 401
    valid = api_token(db, "recordings:write", expires_at=datetime.now(UTC) + timedelta(hours=1))
    assert _upload(base_url, dicom, _bearer(valid)).status_code == 202
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert _upload(base_url, dicom, _bearer(tampered)).status_code == 401


def test_token_is_stored_only_as_a_hash(settings):
    import asyncio

    import asyncpg

    token = _cli_token(settings.database_url, "hash-check", "admin")
    _, token_id, secret = token.split("_", 2)
    dsn = settings.database_url.replace("postgresql+asyncpg://", "postgresql://")

    async def dump() -> str:
        connection = await asyncpg.connect(dsn)
        try:
            rows = await connection.fetch("SELECT * FROM api_tokens")
            return "\n".join(repr(dict(row)) for row in rows)
        finally:
            await connection.close()

    stored = asyncio.run(dump())
    assert token_id in stored and hashlib.sha256(secret.encode()).hexdigest() in stored
    assert secret not in stored and secret[:16] not in stored and token not in stored


def test_token_cli_refuses_unknown_scopes_and_bad_expiry(settings):
    bad_scope = _cli(settings.database_url, "token", "create", "--name", "x", "--scope", "root")
    assert bad_scope.returncode == 2 and "invalid choice" in bad_scope.stderr
    bad_expiry = _cli(settings.database_url, "token", "create", "--name", "x", "--scope", "admin", "--expires", "soon")
    assert bad_expiry.returncode == 2 and "--expires" in bad_expiry.stderr


def test_database_outage_is_503_never_a_pass(tansu, fresh_postgres_url, unique_name, tmp_path):
    """Credentials cannot be checked while Postgres is unreachable (a real outage through a TCP proxy)."""
    from sqlalchemy.engine import make_url

    from tests.tcp_proxy import TcpProxy
    from tests.webapp.conftest import api_token

    upgrade(fresh_postgres_url)
    token = api_token(fresh_postgres_url, "recordings:read")
    direct = make_url(fresh_postgres_url)
    proxy = TcpProxy(direct.host or "127.0.0.1", direct.port or 5432).start()
    try:
        through = direct.set(port=proxy.port).render_as_string(hide_password=False)
        settings = isolated_settings(tansu.bootstrap, through, tmp_path / "home", unique_name)
        with serve_gateway(settings, settings.kafka_bootstrap) as url:
            path = f"{url}/api/recordings/{uuid.uuid4()}"
            assert httpx.get(path, headers=_bearer(token), timeout=30).status_code == 404  # checked: unknown id
            proxy.outage()
            response = httpx.get(path, headers=_bearer(token), timeout=60)
            assert response.status_code == 503, response.text
            assert response.json()["error"]["reason"] == "database_unavailable"
    finally:
        proxy.close()
