"""The compose TLS proxy for real: Caddy runs deploy/caddy/Caddyfile (only the certificate folder,
the upstream and the port adapted to this machine) in front of the real gateway, with a throw-away
self-signed certificate from openssl. Checks: https works and is verified against that certificate,
cookies are Secure, plain http is refused, and a client cannot forge the SSO header through it.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ecgstream.embedded import free_port, wait_for_port
from storage import upgrade
from tests.e2e.helpers import isolated_settings
from tests.webapp.conftest import serve_gateway

pytestmark = pytest.mark.integration

CADDYFILE = Path(__file__).resolve().parents[2] / "deploy" / "caddy" / "Caddyfile"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (Debian package; .ci/run installs caddy)")
    return path


@pytest.fixture
def certificate(tmp_path) -> Path:
    folder = tmp_path / "certs"
    folder.mkdir()
    subprocess.run(
        [_tool("openssl"), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    return folder


@pytest.fixture
def proxied(tansu, fresh_postgres_url, unique_name, tmp_path, certificate) -> Iterator[tuple[str, str]]:
    """(https URL through Caddy, plain http URL of the same Caddy port); the gateway trusts SSO
    headers from 127.0.0.1, i.e. from this very proxy, so only the proxy's stripping protects it."""
    caddy = _tool("caddy")
    upgrade(fresh_postgres_url)
    settings = isolated_settings(tansu.bootstrap, fresh_postgres_url, tmp_path / "home", unique_name,
                                 trusted_proxy_cidrs="127.0.0.1/32", session_cookie_secure="true")  # fmt: skip
    port = free_port()
    with serve_gateway(settings, settings.kafka_bootstrap) as gateway_url:
        config = (
            CADDYFILE.read_text()
            .replace("/certs/", f"{certificate}/")
            .replace("gateway:8080", gateway_url.removeprefix("http://"))
            .replace(":443 {", f"127.0.0.1:{port} {{")
        )
        caddyfile = tmp_path / "Caddyfile"
        caddyfile.write_text(config)
        log = open(tmp_path / "caddy.log", "wb")  # noqa: SIM115 - closed below
        process = subprocess.Popen([caddy, "run", "--config", str(caddyfile), "--adapter", "caddyfile"],
                                   stdout=log, stderr=log, env={"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path)})  # fmt: skip
        try:
            wait_for_port("127.0.0.1", port, 30)
            yield f"https://127.0.0.1:{port}", f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(30)
            log.close()


def test_gateway_through_the_tls_proxy(proxied, certificate):
    https_url, http_url = proxied
    with httpx.Client(base_url=https_url, verify=str(certificate / "cert.pem"), timeout=30) as client:
        page = client.get("/login")
        assert page.status_code == 200 and page.http_version in {"HTTP/1.1", "HTTP/2"}
        assert "strict-transport-security" in page.headers
        cookie = page.headers["set-cookie"].lower()
        assert "secure" in cookie and "httponly" in cookie and "samesite=strict" in cookie
        forged = client.get("/", headers={"X-Forwarded-User": "chief.of.medicine"})
        assert forged.status_code == 303 and forged.headers["location"] == "/login"  # header stripped
        api = client.post("/api/recordings", headers={"X-Forwarded-User": "chief.of.medicine"})
        assert api.status_code == 401
    with pytest.raises(httpx.HTTPError):  # no certificate check passes against an unknown issuer
        httpx.get(f"{https_url}/login", timeout=10)
    plain = None
    try:
        plain = httpx.get(f"{http_url}/login", timeout=10)
    except httpx.HTTPError:
        pass  # refused outright
    assert plain is None or plain.status_code == 400  # Caddy answers plain HTTP on a TLS port with 400
