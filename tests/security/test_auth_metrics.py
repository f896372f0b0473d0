"""Issue 10, finding 9: the worker's unauthenticated /metrics listens on loopback unless METRICS_HOST
says otherwise. Before the fix ``serve_metrics`` bound 0.0.0.0 (every interface)."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request

import pytest

from core.config import Settings, load_settings
from ecgstream.embedded import free_port, wait_for_port
from storage import upgrade
from stream_processor.metrics import WorkerMetrics, serve_metrics


def _listening_address(port: int) -> str:
    """The local address of the TCP socket listening on ``port`` (from /proc/net/tcp, IPv4)."""
    for line in open("/proc/net/tcp").read().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, port_hex = local.split(":")
        if state == "0A" and int(port_hex, 16) == port:  # 0A = LISTEN
            return ".".join(str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0))
    raise AssertionError(f"nothing listens on port {port}")


def test_metrics_host_setting_defaults_to_loopback():
    assert Settings().metrics_host == "127.0.0.1"
    assert load_settings({"METRICS_HOST": "0.0.0.0"}).metrics_host == "0.0.0.0"


@pytest.mark.parametrize(("host", "expected"), [(None, "127.0.0.1"), ("0.0.0.0", "0.0.0.0")])
def test_serve_metrics_binds_where_asked(host, expected):
    metrics = WorkerMetrics.create()
    port = serve_metrics(metrics, 0) if host is None else serve_metrics(metrics, 0, host)
    assert _listening_address(port) == expected
    assert b"ecgstream_" in urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read()


@pytest.mark.integration
def test_real_worker_serves_metrics_on_loopback_by_default(tmp_path, tansu, fresh_postgres_url, unique_name):
    upgrade(fresh_postgres_url)
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key != "METRICS_HOST"}
    env.update(KAFKA_BOOTSTRAP=tansu.bootstrap, DATABASE_URL=fresh_postgres_url, PATIENT_HMAC_SECRET="metrics-test-patient-secret",
               METRICS_PORT=str(port), ECGSTREAM_HOME=str(tmp_path), RECORDINGS_TOPIC=f"rec-{unique_name}",
               DIAGNOSES_TOPIC=f"diag-{unique_name}", DEADLETTER_TOPIC=f"dlq-{unique_name}",
               WORKER_GROUP=f"group-{unique_name}", TORCH_THREADS="1", LOG_LEVEL="WARNING")  # fmt: skip
    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        worker = subprocess.Popen([sys.executable, "-m", "ecgstream.cli", "worker"], env=env, stdout=out, stderr=out)
    try:
        wait_for_port("127.0.0.1", port, 120)
        assert _listening_address(port) == "127.0.0.1", log.read_text()[-2000:]
    finally:
        worker.terminate()
        worker.wait(60)
