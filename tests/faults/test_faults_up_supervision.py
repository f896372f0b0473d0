"""`ecgstream up` supervises its workers: a worker killed with SIGKILL mid-stream is restarted and no
accepted recording is lost (issue 10, finding 3).

The real command as an OS process (embedded Tansu, a fresh Postgres), a stream of recordings
published in paced chunks, the worker process SIGKILLed once rows are arriving. Before the fix the
whole stack stopped (exit 1) when a worker died, and with it the in-memory broker and every recording
still queued in it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ecgstream.embedded import free_port
from tests.e2e.helpers import TEST_PATIENT_SECRET
from tests.faults.harness import Figures, PacedProducer, db_counts, exactly_once, wait_until
from tests.faults.messages import copies, synthetic_recordings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

N_RECORDINGS = 120
KILL_AFTER_ROWS = 16


def _worker_pids(parent: int) -> list[int]:
    """PIDs of the `ecgstream worker` children of ``parent`` (read from /proc)."""
    pids: list[int] = []
    children = Path(f"/proc/{parent}/task/{parent}/children")
    for pid in children.read_text().split() if children.exists() else []:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"worker" in cmdline:
            pids.append(int(pid))
    return pids


def test_sigkilled_worker_is_restarted_and_nothing_is_lost(tmp_path: Path, fresh_postgres_url: str) -> None:
    started = time.monotonic()
    home = tmp_path / "home"
    env = {key: value for key, value in os.environ.items() if key not in {"KAFKA_BOOTSTRAP", "DATABASE_URL"}}
    env.update(ECGSTREAM_HOME=str(home), DATABASE_URL=fresh_postgres_url, GATEWAY_PORT=str(free_port()),
               METRICS_PORT="0", LOG_LEVEL="INFO", TOPIC_PARTITIONS="2", BATCH_MAX="8", BATCH_WAIT="0.2",
               TORCH_THREADS="1", PATIENT_HMAC_SECRET=TEST_PATIENT_SECRET)  # fmt: skip
    output_path = tmp_path / "up.out"
    recordings = copies(synthetic_recordings(20, seed=41), N_RECORDINGS)
    ids = [r.recording_id for r in recordings]
    figures = Figures("up_worker_sigkill", sent=N_RECORDINGS)
    with open(output_path, "wb") as output:
        up = subprocess.Popen([sys.executable, "-m", "ecgstream.cli", "up", "--no-gateway"], env=env,
                              stdout=output, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        info_path = home / "stack.json"
        wait_until(lambda: info_path.exists() or up.poll() is not None, 120, "ecgstream up to come up")
        assert info_path.exists(), output_path.read_text()[-3000:]
        bootstrap = json.loads(info_path.read_text())["bootstrap"]
        victim = wait_until(lambda: _worker_pids(up.pid), 30, "the worker process")[0]

        producer = PacedProducer(bootstrap, "ecg.recordings.v1", recordings, chunk=8, pause=0.2).start()
        wait_until(lambda: len(db_counts(fresh_postgres_url)) >= KILL_AFTER_ROWS, 120, "rows before the kill", 0.1)
        os.kill(victim, signal.SIGKILL)
        published_at_kill = producer.published
        rows_at_kill = len(db_counts(fresh_postgres_url))
        assert rows_at_kill < N_RECORDINGS, "the kill must hit mid-stream"

        replacement = wait_until(lambda: [p for p in _worker_pids(up.pid) if p != victim], 60,
                                 "a restarted worker process")  # fmt: skip
        assert up.poll() is None, "ecgstream up stopped when its worker died:\n" + output_path.read_text()[-3000:]
        producer.join()
        counts = wait_until(lambda: (c := db_counts(fresh_postgres_url)) and len(c) >= len(set(ids)) and c, 240,
                            "every recording stored")  # fmt: skip
        figures.rows, figures.duplicates, figures.missing, unexpected = exactly_once(counts, ids)
        figures.extra.update(rows_at_kill=rows_at_kill, published_at_kill=published_at_kill,
                             victim_pid=victim, replacement_pid=replacement[0])  # fmt: skip
        assert (figures.duplicates, figures.missing, unexpected) == (0, 0, 0)
        assert figures.rows == len(set(ids))
        log = output_path.read_text()
        restarted = [json.loads(line) for line in log.splitlines()
                     if line.startswith("{") and '"process restarted"' in line]  # fmt: skip
        assert restarted and restarted[0]["child"] == "worker-0" and restarted[0]["restarts"] == 1, log[-3000:]
    finally:
        up.send_signal(signal.SIGTERM)
        up.wait(90)
        figures.wall_s = time.monotonic() - started
        figures.emit()
    assert up.returncode == 0, output_path.read_text()[-3000:]
