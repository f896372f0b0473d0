"""The benchmark harness end to end: ``python -m benchmarks.harness --quick`` against the embedded
Tansu broker, the real Postgres and SQLite, with real worker processes. Asserts that the result
file has every key with sane values; no timing thresholds (the machines are shared and noisy)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.harness.report import RATIO_KEYS
from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def test_quick_run_writes_every_figure(fresh_postgres_url: str, tmp_path: Path) -> None:
    output = tmp_path / "latest.json"
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.harness", "--quick", "--databases", "sqlite", "postgres",
         "--postgres-url", fresh_postgres_url, "--output", str(output), "--log-level", "WARNING"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "end_to_end_over_ceiling" in completed.stdout  # the one table was printed
    result = json.loads(output.read_text())

    assert result["mode"] == "quick"
    assert result["primary_database"] == "postgres"
    for key in RATIO_KEYS:
        assert _positive(result[key]), (key, result[key])
    assert 100e6 < result["worker_peak_rss_bytes"] < 8e9  # a loaded torch model, not a wild number
    assert result["machine"]["cpu_count"] >= 1 and result["machine"]["memory_bytes"] > 0
    assert len(result["commit"]["commit"]) == 40
    assert result["settings"]["batch_max"] == 32 and result["settings"]["sizes"]["backlog"] == 200

    ceiling = result["ceiling"]
    assert _positive(ceiling["records_per_s"]) and _positive(ceiling["preprocess_ms_per_record"])
    assert _positive(ceiling["model_ms_per_record"]) and _positive(ceiling["decode_ms_per_record"])

    for name in ("sqlite", "postgres"):
        db = result["databases"][name]
        sizes = result["settings"]["sizes"]
        assert db["drain"]["records"] == sizes["backlog"] and _positive(db["drain"]["records_per_s"])
        # Counted from the worker's /metrics, scraped when the last event arrives: the worker observes a
        # batch's stage metrics after publishing it, and up to two batches (2 x BATCH_MAX 32) may still
        # be between publish and observe (stream_processor.pipeline: at most two awaiting ack).
        assert db["drain"]["stages"]["records"] >= sizes["backlog"] - 2 * 32
        assert _positive(db["end_to_end"]["records_per_s"])
        # BATCH_MAX=1 really ran batches of one (a scrape can fall between a batch's two counters, so
        # records/batches may read just under 1; batches of 32 would read far above it)
        assert 0.9 <= db["per_record"]["stages"]["mean_batch"] <= 1.0
        assert db["two_workers"]["workers"] == 2 and len(db["two_workers"]["peak_rss_bytes"]) == 2
        latency = db["latency"]
        assert latency["event"]["records"] == latency["records"] > 0  # every paced record got its event
        assert 0 < latency["event"]["p50_s"] <= latency["event"]["p99_s"] <= latency["event"]["max_s"]
        for variant in ("without_signal", "with_signal"):
            assert _positive(db["db_write"][variant]["rows_per_s_1_sink"])
        # a stored signal is 12 x 5000 float32 = 240,000 bytes: the with-signal rows must carry it
        assert (
            db["db_write"]["with_signal"]["bytes_per_row"]
            > 100_000
            > db["db_write"]["without_signal"]["bytes_per_row"]
        )
