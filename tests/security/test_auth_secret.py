"""Issue 10, finding 6: outside the embedded stack, the worker and the gateway refuse to start while
PATIENT_HMAC_SECRET is unset or the public development default. The real commands run as OS processes.

Before the fix both started (the worker then waited for the broker, the gateway served): the
subprocess bound below then expired, failing the test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

import pytest

from core.config import DEV_HMAC_SECRET, Settings
from ecgstream.embedded import free_port
from storage import upgrade

KAFKA = {"KAFKA_BOOTSTRAP": "127.0.0.1:{port}"}
DATABASE = {"DATABASE_URL": "postgresql+asyncpg://ecgstream@127.0.0.1:{port}/ecgstream"}
CASES = [  # (command, external setting, PATIENT_HMAC_SECRET)
    ("worker", KAFKA, None), ("worker", DATABASE, DEV_HMAC_SECRET),
    ("gateway", KAFKA, DEV_HMAC_SECRET), ("gateway", DATABASE, None), ("gateway", KAFKA, "short"),
    # issue 18, finding 12: publish checked nothing; low-entropy and padded defaults were accepted
    ("publish", KAFKA, "a" * 16), ("publish", KAFKA, DEV_HMAC_SECRET + " "), ("publish", KAFKA, None),
    ("worker", KAFKA, " " + DEV_HMAC_SECRET), ("gateway", KAFKA, "abab" * 8),
]  # fmt: skip


def _env(tmp_path, extra: dict[str, str]) -> dict[str, str]:
    drop = {"KAFKA_BOOTSTRAP", "DATABASE_URL", "PATIENT_HMAC_SECRET", "ECGSTREAM_EMBEDDED_STACK"}
    env = {key: value for key, value in os.environ.items() if key not in drop}
    port = str(free_port())  # nothing listens there: a process that gets past the check hangs or fails later
    return {**env, "ECGSTREAM_HOME": str(tmp_path), **{k: v.format(port=port) for k, v in extra.items()}}


@pytest.mark.parametrize(("command", "external", "secret"), CASES)
def test_refuses_to_start_without_a_real_secret(tmp_path, command, external, secret):
    env = _env(tmp_path, external)
    if secret is not None:
        env["PATIENT_HMAC_SECRET"] = secret
    if command == "gateway":
        env["GATEWAY_PORT"] = str(free_port())
    arguments = ["publish", "--no-progress", str(tmp_path / "none.h5")] if command == "publish" else [command]
    result = subprocess.run([sys.executable, "-m", "ecgstream.cli", *arguments], env=env,
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert "PATIENT_HMAC_SECRET" in result.stderr and f"ecgstream {command}:" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.integration
def test_gateway_starts_with_a_real_secret(tmp_path, tansu, fresh_postgres_url):
    upgrade(fresh_postgres_url)
    port = free_port()
    env = _env(tmp_path, {"KAFKA_BOOTSTRAP": tansu.bootstrap, "DATABASE_URL": fresh_postgres_url})
    env.update(PATIENT_HMAC_SECRET="a-real-secret-of-enough-length", GATEWAY_PORT=str(port), LOG_LEVEL="WARNING")
    process = subprocess.Popen([sys.executable, "-m", "ecgstream.cli", "gateway"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        body = b""
        while time.monotonic() < deadline and process.poll() is None:
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
                break
            except OSError:
                time.sleep(0.3)
        assert b'"status":"ok"' in body, process.stdout.read().decode() if process.poll() is not None else "no answer"
    finally:
        process.terminate()
        process.wait(30)


def test_embedded_stack_flag_only_covers_a_loopback_broker_and_sqlite(tmp_path):
    from core.secret_check import InsecureConfiguration, is_development_stack, require_patient_secret

    sqlite = f"sqlite+aiosqlite:///{tmp_path / 'e.db'}"
    assert is_development_stack(Settings())  # nothing external: `ecgstream up`, `demo`
    assert is_development_stack(Settings(kafka_bootstrap="127.0.0.1:9", database_url=sqlite, embedded_stack=True))
    for settings in (
        Settings(kafka_bootstrap="127.0.0.1:9", database_url=sqlite),  # no flag: an operator's own broker
        Settings(kafka_bootstrap="kafka:9092", database_url=sqlite, embedded_stack=True),
        Settings(kafka_bootstrap="127.0.0.1:9", database_url="postgresql+asyncpg://h/db", embedded_stack=True),
    ):
        assert not is_development_stack(settings)
        with pytest.raises(InsecureConfiguration, match="PATIENT_HMAC_SECRET"):
            require_patient_secret(settings)
        require_patient_secret(settings.with_overrides(patient_hmac_secret="3f9c0e1d2b4a5f6e7a8b9c0d1e2f3a4b"))


@pytest.mark.parametrize(
    ("secret", "why"),
    [("x" * 32, "distinct"), ("abcdefg" * 4, "distinct"), (DEV_HMAC_SECRET + "\n", "development default"),
     ("3f9c0e1d2b4a5f6e7a8b9c0d1e2f3a4b\n", "spaces"),
     ("  " + DEV_HMAC_SECRET.upper(), "development default"), ("0123456789abcde", "shorter"), ("", "unset")],
)  # fmt: skip
def test_weak_secrets_are_refused_with_the_reason(secret, why):
    from core.secret_check import InsecureConfiguration, require_patient_secret, weak_secret_reason

    external = Settings(kafka_bootstrap="kafka:9092", patient_hmac_secret=secret)
    with pytest.raises(InsecureConfiguration, match=why):
        require_patient_secret(external)
    assert weak_secret_reason("3f9c0e1d2b4a5f6e7a8b9c0d1e2f3a4b") is None


def test_local_stack_marks_only_its_own_embedded_children(tmp_path):
    from ecgstream.stack import LocalStack

    assert LocalStack(Settings(home=tmp_path)).child_env()["ECGSTREAM_EMBEDDED_STACK"] == "true"
    external = Settings(home=tmp_path, kafka_bootstrap="kafka:9092")
    assert LocalStack(external).child_env()["ECGSTREAM_EMBEDDED_STACK"] == "false"
