"""Deployment files are checked by the real tools: promtool, a real Prometheus scrape, docker-compose."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml

from ecgstream.embedded import free_port, wait_for_port
from stream_processor.metrics import WorkerMetrics, serve_metrics

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
REPO = DEPLOY.parents[1]


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (Debian package: .ci/run installs it)")
    return path


@pytest.mark.parametrize(
    "args",
    [["check", "config", str(DEPLOY / "prometheus.yml")], ["check", "rules", str(DEPLOY / "rules.yml")],
     ["test", "rules", str(DEPLOY / "rules_test.yml")]],
    ids=["config", "rules", "rule-unit-tests"],
)  # fmt: skip
def test_promtool_accepts_configuration(args):
    result = subprocess.run([_tool("promtool"), *args], capture_output=True, text=True, cwd=DEPLOY)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


def test_compose_file_is_valid():
    env = {**os.environ, "PATIENT_HMAC_SECRET": "test-secret", "POSTGRES_PASSWORD": "pw", "GRAFANA_ADMIN_PASSWORD": "pw"}
    result = subprocess.run(
        [_tool("docker-compose"), "config", "--services"], capture_output=True, text=True, cwd=REPO, env=env
    )
    assert result.returncode == 0, result.stderr
    # docker-compose 1.29 lists profiled services too; the EHR exporter is opt-in (profile "ehr").
    assert set(result.stdout.split()) == {
        "kafka", "postgres", "migrate", "worker", "gateway", "exporter", "tls-proxy", "prometheus", "grafana"
    }  # fmt: skip
    rendered = subprocess.run(
        [_tool("docker-compose"), "config"], capture_output=True, text=True, cwd=REPO, env=env, check=True
    ).stdout
    services = yaml.safe_load(rendered)["services"]
    assert services["exporter"]["profiles"] == ["ehr"]
    assert all("profiles" not in spec for name, spec in services.items() if name != "exporter")


def _dashboard_queries() -> list[str]:
    dashboard = json.loads((REPO / "deploy" / "grafana" / "dashboards" / "ecgstream.json").read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def test_dashboard_only_uses_metrics_the_worker_exports():
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
    exported = {
        family.name + suffix
        for family in WorkerMetrics.create().registry.collect()
        for suffix in suffixes[family.type]
    }
    used = set(re.findall(r"\b(ecgstream_[a-z_]+)", " ".join(_dashboard_queries())))
    assert used, "the dashboard queries ecgstream metrics"
    assert used <= exported, f"unknown metrics: {sorted(used - exported)}"


def test_real_prometheus_scrapes_worker_metrics(tmp_path):
    """A real Prometheus server scrapes a worker metrics endpoint and evaluates our recording rules."""
    prometheus = _tool("prometheus")
    metrics = WorkerMetrics.create()
    metrics.records_processed.inc(7)
    metrics.latency_from_ingest.observe(0.4)
    metrics_port = serve_metrics(metrics, 0, "127.0.0.1")
    config = tmp_path / "prometheus.yml"
    shutil.copy(DEPLOY / "rules.yml", tmp_path / "rules.yml")
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "rule_files: [rules.yml]\n"
        "scrape_configs:\n"
        f"  - job_name: ecgstream-worker\n    static_configs: [{{targets: ['127.0.0.1:{metrics_port}']}}]\n"
    )
    port = free_port()
    process = subprocess.Popen(
        [prometheus, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_port("127.0.0.1", port, timeout=30)
        deadline = time.monotonic() + 40
        value = None
        while time.monotonic() < deadline and value is None:
            query = "ecgstream_records_processed_total"
            url = f"http://127.0.0.1:{port}/api/v1/query?query={query}"
            try:
                body = json.loads(urllib.request.urlopen(url, timeout=5).read())
            except OSError:
                body = {"data": {"result": []}}
            results = body["data"]["result"]
            value = float(results[0]["value"][1]) if results else None
            time.sleep(0.5)
        assert value == 7.0
        for query in _dashboard_queries():  # every dashboard panel is valid PromQL on the real server
            url = f"http://127.0.0.1:{port}/api/v1/query?query={urllib.parse.quote(query)}"
            body = json.loads(urllib.request.urlopen(url, timeout=5).read())
            assert body["status"] == "success", query
    finally:
        process.terminate()
        process.wait(10)
