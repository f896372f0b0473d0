"""Issue 10, finding 8 (deployment): docker-compose.yml publishes no unauthenticated service, holds no
default password, and terminates TLS for the gateway. Read from the file itself; where the real
tools are installed (docker-compose, caddy: .ci/run installs them) they check it too.

Before the fix Postgres had the password ``ecgstream``, and the gateway (plain HTTP), Prometheus and
Grafana (admin/admin) were published on every interface.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
CADDYFILE = REPO / "deploy" / "caddy" / "Caddyfile"
REQUIRED_SECRETS = {"PATIENT_HMAC_SECRET", "POSTGRES_PASSWORD", "GRAFANA_ADMIN_PASSWORD"}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN", re.I)


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    return {str(k): str(v) for k, v in env.items()}


def test_secrets_come_from_the_environment_without_defaults(services):
    text = COMPOSE.read_text()
    for name, service in services.items():
        for key, value in _environment(service).items():
            if SECRET_NAME.search(key):
                assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]*\}", value), f"{name}.{key} must be ${{VAR:?...}}: {value}"
            for password in re.findall(r"://[^:/@]+:([^@]+)@", value):  # passwords inside URLs
                assert password.startswith("${POSTGRES_PASSWORD:?"), f"{name}.{key} has a literal password"
    for variable in re.findall(r"\$\{([A-Z_]+):-", text):  # ${VAR:-default} is fine, but not for secrets
        assert not SECRET_NAME.search(variable), f"{variable} has a default"
    required = set(re.findall(r"\$\{([A-Z_]+):\?", text))
    assert REQUIRED_SECRETS <= required


def test_only_the_tls_proxy_and_loopback_grafana_are_published(services):
    published = {name: service["ports"] for name, service in services.items() if service.get("ports")}
    assert published == {"tls-proxy": ["443:443"], "grafana": ["127.0.0.1:3000:3000"]}
    grafana = _environment(services["grafana"])
    assert grafana["GF_AUTH_ANONYMOUS_ENABLED"] == "false" and grafana["GF_USERS_ALLOW_SIGN_UP"] == "false"
    assert _environment(services["worker"])["METRICS_HOST"] == "0.0.0.0"  # for Prometheus, on the compose network


def test_gateway_is_served_over_tls_with_mounted_certificates(services):
    proxy = services["tls-proxy"]
    assert any(volume.endswith(":/certs:ro") for volume in proxy["volumes"])
    assert any(volume.startswith("./deploy/caddy/Caddyfile:") for volume in proxy["volumes"])
    assert _environment(services["gateway"])["SESSION_COOKIE_SECURE"] == "true"
    caddyfile = CADDYFILE.read_text()
    assert re.search(r"^\s*tls /certs/cert\.pem /certs/key\.pem", caddyfile, re.M)
    assert re.search(r"reverse_proxy gateway:8080", caddyfile)
    assert "header_up -X-Forwarded-User" in caddyfile  # clients cannot forge an SSO identity


def test_caddy_understands_the_caddyfile():
    caddy = shutil.which("caddy")
    if caddy is None:
        pytest.skip("caddy is not installed (Debian package caddy; .ci/run installs it)")
    result = subprocess.run([caddy, "adapt", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    server = next(iter(config["apps"]["http"]["servers"].values()))
    assert server["listen"] == [":443"]
    assert server["automatic_https"] == {"disable": True}  # certificates from /certs only
    (loaded,) = config["apps"]["tls"]["certificates"]["load_files"]
    assert (loaded["certificate"], loaded["key"]) == ("/certs/cert.pem", "/certs/key.pem")
    proxy = next(h for route in server["routes"] for h in route["handle"] if h["handler"] == "reverse_proxy")
    assert proxy["upstreams"] == [{"dial": "gateway:8080"}]
    assert proxy["headers"]["request"]["delete"] == ["X-Forwarded-User"]


def test_caddy_has_explicit_deadlines_for_every_phase():
    """Issue 18, finding 4: the proxy in front of the gateway sets every timeout itself (Caddy's
    defaults leave bodies and writes unbounded), and gives uploads more time than the gateway's own
    upload deadline, so a slow upload gets the gateway's 408 rather than a cut connection."""
    from core.config import Settings

    caddy = shutil.which("caddy")
    if caddy is None:
        pytest.skip("caddy is not installed (Debian package caddy; .ci/run installs it)")
    result = subprocess.run([caddy, "adapt", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 0, result.stderr
    server = next(iter(json.loads(result.stdout)["apps"]["http"]["servers"].values()))
    seconds = {name: server.get(name, 0) / 1e9 for name in ("read_header_timeout", "read_timeout", "write_timeout",
                                                              "idle_timeout")}  # fmt: skip
    assert all(value > 0 for value in seconds.values()), seconds
    assert seconds["read_header_timeout"] <= 10
    assert Settings().upload_body_timeout_seconds < seconds["read_timeout"] <= 120
    proxy = next(h for route in server["routes"] for h in route["handle"] if h["handler"] == "reverse_proxy")
    assert 0 < proxy["transport"]["response_header_timeout"] / 1e9 <= seconds["write_timeout"]
    assert proxy["transport"]["dial_timeout"] / 1e9 <= 10


def test_compose_refuses_to_start_without_the_secrets():
    tool = shutil.which("docker-compose")
    if tool is None:
        pytest.skip("docker-compose is not installed (Debian package; .ci/run installs it)")
    env = {k: v for k, v in os.environ.items() if k not in REQUIRED_SECRETS}
    result = subprocess.run([tool, "config", "--quiet"], capture_output=True, text=True, cwd=REPO, env=env)
    assert result.returncode != 0
    assert any(name in result.stderr for name in REQUIRED_SECRETS), result.stderr
