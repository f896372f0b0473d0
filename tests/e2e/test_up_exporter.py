"""`ecgstream up` with FHIR_BASE_URL set starts the exporter beside its worker: the real command as an OS
process on the embedded default (its own Tansu broker, a SQLite file), one synthetic recording published,
diagnosed by the worker and delivered by the exporter to a real local FHIR server; SIGTERM stops it all.
(Restarting a killed exporter: tests/ecgstream/test_stack_exporter.py.)"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ecgstream.embedded import free_port
from tests.e2e.helpers import publish_all
from tests.faults.messages import synthetic_recording
from tests.stream_processor.export_servers import FhirTestServer

pytestmark = pytest.mark.integration


def _exporter_pids(parent: int) -> list[int]:
    """PIDs of the `ecgstream export` children of ``parent`` (read from /proc)."""
    children = Path(f"/proc/{parent}/task/{parent}/children")
    pids = []
    for pid in children.read_text().split() if children.exists() else []:
        try:
            if Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[-2:-1] == [b"export"]:
                pids.append(int(pid))
        except OSError:
            continue
    return pids


def test_up_starts_the_exporter_and_it_delivers_to_the_fhir_server(tmp_path: Path) -> None:
    home = tmp_path / "home"
    dropped = {"KAFKA_BOOTSTRAP", "DATABASE_URL", "FHIR_BASE_URL", "HL7_MLLP_HOST"}
    env = {key: value for key, value in os.environ.items() if key not in dropped}
    recording = synthetic_recording(7)
    output_path = tmp_path / "up.out"
    with FhirTestServer() as fhir:
        env.update(ECGSTREAM_HOME=str(home), GATEWAY_PORT=str(free_port()), METRICS_PORT="0", LOG_LEVEL="WARNING",
                   FHIR_BASE_URL=fhir.base_url, EXPORT_WAVEFORM="false")  # fmt: skip
        with open(output_path, "wb") as output:
            up = subprocess.Popen([sys.executable, "-m", "ecgstream.cli", "up", "--no-gateway"], env=env,
                                  stdout=output, stderr=subprocess.STDOUT)  # fmt: skip
        exporters: list[int] = []
        try:
            info_path = home / "stack.json"
            deadline = time.monotonic() + 90
            while not info_path.exists() and time.monotonic() < deadline and up.poll() is None:
                time.sleep(0.2)
            assert info_path.exists(), output_path.read_text()[-3000:]
            exporters = _exporter_pids(up.pid)
            assert len(exporters) == 1, "one exporter child process"
            asyncio.run(publish_all(json.loads(info_path.read_text())["bootstrap"], "ecg.recordings.v1", [recording]))

            deadline = time.monotonic() + 90
            while not fhir.received and time.monotonic() < deadline and up.poll() is None:
                time.sleep(0.2)
            assert fhir.received, output_path.read_text()[-3000:] + (home / "logs" / "exporter.log").read_text()[-3000:]
        finally:
            up.send_signal(signal.SIGTERM)
            up.wait(timeout=60)
    output = output_path.read_text()
    assert up.returncode == 0, output[-3000:]
    bundle = json.loads(fhir.received[0].body)
    report = bundle["entry"][0]["resource"]
    assert bundle["identifier"]["value"].startswith(f"{recording.recording_id}/") and report["status"] == "preliminary"
    assert fhir.received[0].path == "/fhir"
    port = fhir.base_url.split(":")[2].split("/")[0]
    line = next(line for line in output.splitlines() if line.startswith("  exporter: "))
    assert line.startswith(f"  exporter: to FHIR server http://127.0.0.1:{port}: metrics http://127.0.0.1:")
    assert line.endswith(f"(log {home / 'logs' / 'exporter.log'})") and "/fhir" not in line
    assert "ecgstream stopped" in output
    assert not any(Path(f"/proc/{pid}").exists() for pid in exporters), "Ctrl-C / SIGTERM stops the exporter"
