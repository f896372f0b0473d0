"""`ecgstream up` on the true embedded default (its own Tansu broker, a SQLite file), fed by
`ecgstream publish`, stopped with SIGTERM: the commands a user types, as OS processes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from ecgstream.embedded import free_port
from ingest.synthetic import write_sph_dataset
from storage import count_diagnoses, create_engine

pytestmark = pytest.mark.integration


def _count(database_url: str) -> int:
    async def read() -> int:
        engine = create_engine(database_url)
        try:
            return await count_diagnoses(engine)
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_up_then_publish_then_sigterm(tmp_path):
    home = tmp_path / "home"
    dropped = {"KAFKA_BOOTSTRAP", "DATABASE_URL", "FHIR_BASE_URL", "HL7_MLLP_HOST"}
    env = {key: value for key, value in os.environ.items() if key not in dropped}
    env.update(ECGSTREAM_HOME=str(home), GATEWAY_PORT=str(free_port()), METRICS_PORT="0", LOG_LEVEL="WARNING")
    data = write_sph_dataset(tmp_path / "sph", 5, seed=21)
    up = subprocess.Popen([sys.executable, "-m", "ecgstream.cli", "up", "--no-gateway"], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        info_path = home / "stack.json"
        deadline = time.monotonic() + 90
        while not info_path.exists() and time.monotonic() < deadline and up.poll() is None:
            time.sleep(0.2)
        assert info_path.exists(), "ecgstream up did not come up"
        info = json.loads(info_path.read_text())
        assert info["database_url"].startswith("sqlite+aiosqlite:///")

        published = subprocess.run([sys.executable, "-m", "ecgstream.cli", "publish", "--no-progress", str(data)],
                                   env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
        assert published.returncode == 0, published.stdout + published.stderr
        assert "published: 5" in published.stdout

        deadline = time.monotonic() + 120
        while _count(info["database_url"]) < 5 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _count(info["database_url"]) == 5
    finally:
        up.send_signal(signal.SIGTERM)
        output, _ = up.communicate(timeout=60)
    assert up.returncode == 0, output.decode()[-2000:]
    assert b"ecgstream stopped" in output
    assert b"  exporter: not started (no FHIR_BASE_URL or HL7_MLLP_HOST configured)\n" in output
    assert not (home / "logs" / "exporter.log").exists()
    assert not (home / "stack.json").exists()
