"""Issue 18, finding 10: a setting that cannot work stops the command with one line naming the
variable and exit code 2, never a traceback (nor "unreachable" when the broker is fine).

The real ``ecgstream`` commands run as OS processes. Before the fix: tracebacks for a missing or
invalid CA file, a bad TRUSTED_PROXY_CIDRS, SESSION_MAX_AGE or DEADLETTER_KEY; ``ecgstream up`` with
SASL_SSL and the embedded broker started a stack whose processes then failed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.config import ConfigError, load_settings
from ecgstream.embedded import free_port

SECRET = "3f9c0e1d2b4a5f6e7a8b9c0d1e2f3a4b"  # a usable PATIENT_HMAC_SECRET: the checks below come after it


def _env(tmp_path: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "DATABASE_", "PATIENT_", "SESSION_"))}
    env.update(ECGSTREAM_HOME=str(tmp_path / "home"), GATEWAY_PORT=str(free_port()), METRICS_PORT="0",
               PATIENT_HMAC_SECRET=SECRET, **extra)  # fmt: skip
    return env


def _files(tmp_path: Path) -> dict[str, str]:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n")
    return {"missing": str(tmp_path / "no-such-ca.pem"), "garbage": str(garbage)}


BROKER = {"KAFKA_BOOTSTRAP": "127.0.0.1:9"}
SASL = {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_USERNAME": "u", "KAFKA_SASL_PASSWORD": "pw-secret-1"}
CASES = [  # (command line, environment, the variable the one line must name)
    (["gateway"], {**BROKER, "TRUSTED_PROXY_CIDRS": "10.0.0.0/33"}, "TRUSTED_PROXY_CIDRS"),
    (["gateway"], {**BROKER, "SESSION_MAX_AGE": "8h"}, "SESSION_MAX_AGE"),
    (["gateway"], {**BROKER, "SESSION_COOKIE_SECURE": "maybe"}, "SESSION_COOKIE_SECURE"),
    (["worker"], {**BROKER, "DEADLETTER_KEY": "not base64!"}, "DEADLETTER_KEY"),
    (["worker"], {**BROKER, "KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CAFILE": "{missing}"}, "KAFKA_SSL_CAFILE"),
    (["gateway"], {**BROKER, "KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CAFILE": "{garbage}"}, "KAFKA_SSL_CAFILE"),
    (["publish", "x.h5"], {**BROKER, "KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CAFILE": "{missing}"},
     "KAFKA_SSL_CAFILE"),
    (["publish", "x.h5"], {**BROKER, "KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CERTFILE": "{garbage}",
                           "KAFKA_SSL_KEYFILE": "{garbage}"}, "KAFKA_SSL_CERTFILE"),
    (["up", "--no-gateway"], SASL, "KAFKA_BOOTSTRAP"),  # the embedded broker speaks PLAINTEXT only
    (["token", "list"], {"LOGIN_MAX_FAILURES": "0"}, "LOGIN_MAX_FAILURES"),
]  # fmt: skip


@pytest.mark.parametrize(("command", "extra", "variable"), CASES, ids=[f"{c[0][0]}-{c[2]}" for c in CASES])
def test_a_bad_setting_is_one_line_naming_it_and_exit_2(tmp_path, command, extra, variable):
    files = _files(tmp_path)
    env = _env(tmp_path, {name: value.format(**files) for name, value in extra.items()})
    try:
        done = subprocess.run([sys.executable, "-m", "ecgstream.cli", *command], env=env, capture_output=True,
                              text=True, timeout=60)  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"`ecgstream {' '.join(command)}` did not stop within 60 s: {str(exc.stderr)[-1500:]}")
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert len(lines) == 1 and variable in lines[0], done.stderr[-1500:]
    assert lines[0].startswith(f"ecgstream {command[0]}: ")
    assert "pw-secret-1" not in done.stderr


@pytest.mark.parametrize(
    ("name", "raw"),
    [("BATCH_MAX", "many"), ("STORE_SIGNAL", "ture"), ("GATEWAY_PORT", "70000"), ("PARSE_CONCURRENCY", "0"),
     ("REQUEST_HEADER_TIMEOUT_SECONDS", "-1"), ("DEADLETTER_KEY", "c2VjcmV0")],
)  # fmt: skip
def test_load_settings_names_the_variable(name, raw):
    with pytest.raises(ConfigError, match=name):
        load_settings({name: raw})


def test_secret_values_are_not_repeated_in_the_error():
    with pytest.raises(ConfigError) as caught:
        load_settings({"DEADLETTER_KEY": "c2VjcmV0c2VjcmV0"})
    assert "c2VjcmV0c2VjcmV0" not in str(caught.value)
