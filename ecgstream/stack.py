"""The local stack: broker (embedded Tansu unless KAFKA_BOOTSTRAP), migrated database, worker processes.

Used by ``ecgstream demo``, ``ecgstream up`` and the end-to-end and fault tests, so all of them run
the very same processes a deployment runs. Workers are separate OS processes (``ecgstream worker``),
so they can be killed, restarted and scaled like real ones.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import TracebackType

from ecgstream.config import Settings, settings_to_env
from ecgstream.embedded import TansuBroker, free_port, wait_for_port

__all__ = ["LocalStack", "WorkerProcess"]

logger = logging.getLogger(__name__)


class WorkerProcess:
    """One ``ecgstream worker`` OS process with its own /metrics port and log file."""

    def __init__(self, env: dict[str, str], log_path: Path, name: str) -> None:
        self.metrics_port = free_port()
        self.name = name
        self.log_path = log_path
        self._env = {**env, "METRICS_PORT": str(self.metrics_port)}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    def start(self) -> WorkerProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child process
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ecgstream.cli", "worker"], env=self._env, stdout=log, stderr=log
        )
        log.close()
        return self

    def wait_metrics(self, timeout: float = 60.0) -> None:
        """Block until the worker serves /metrics (model loaded, about to join the group)."""
        wait_for_port("127.0.0.1", self.metrics_port, timeout)

    def assigned_partitions(self) -> int:
        """Recordings partitions this worker owns, read from its /metrics (0 if unreachable)."""
        try:
            text = urllib.request.urlopen(self.metrics_url, timeout=2).read().decode()
        except OSError:
            return 0
        for line in text.splitlines():
            if line.startswith("ecgstream_assigned_partitions "):
                return int(float(line.split()[1]))
        return 0

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, sig: int) -> None:
        if self.running:
            assert self.process is not None
            self.process.send_signal(sig)

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM (graceful: the batch in flight is finished or handed back), then SIGKILL."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def kill(self) -> None:
        """SIGKILL: a crash, nothing is flushed or committed."""
        if self.running:
            assert self.process is not None
            self.process.kill()
            self.process.wait()


class LocalStack:
    """Broker + migrated database + N worker processes; a context manager that cleans up after itself."""

    def __init__(self, settings: Settings, *, workers: int = 1, log_dir: Path | None = None) -> None:
        self.settings = settings
        self.n_workers = workers
        self.log_dir = log_dir or settings.home / "logs"
        self.broker: TansuBroker | None = None
        self.bootstrap = settings.kafka_bootstrap or ""
        self.workers: list[WorkerProcess] = []

    @property
    def database_url(self) -> str:
        return self.settings.effective_database_url

    def child_env(self) -> dict[str, str]:
        """Environment for child processes: the same settings, the resolved broker and database."""
        env = dict(os.environ)
        env.update(settings_to_env(self.settings))
        env.update(KAFKA_BOOTSTRAP=self.bootstrap, DATABASE_URL=self.database_url)
        # the children of a loopback development stack may keep the development PATIENT_HMAC_SECRET
        development = self.settings.embedded_broker and not self.settings.database_url
        env["ECGSTREAM_EMBEDDED_STACK"] = "true" if development else "false"
        return env

    def start(self) -> LocalStack:
        from storage import upgrade
        from stream_processor.topics import create_topics

        self.settings.home.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if self.settings.embedded_broker:
            self.broker = TansuBroker(log_path=self.log_dir / "tansu.log").start()
            self.bootstrap = self.broker.bootstrap
        upgrade(self.database_url)
        asyncio.run(create_topics(self.settings, self.bootstrap))
        for _ in range(self.n_workers):
            self.add_worker()
        return self

    def add_worker(self) -> WorkerProcess:
        index = len(self.workers)
        worker = WorkerProcess(self.child_env(), self.log_dir / f"worker-{index}.log", f"worker-{index}")
        self.workers.append(worker.start())
        logger.info("worker process started", extra={"worker": worker.name, "metrics_port": worker.metrics_port})
        return worker

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Block until every worker serves /metrics and the group owns all recordings partitions."""
        deadline = time.monotonic() + timeout
        for worker in self.workers:
            if worker.running:  # a crashed worker will never serve /metrics again
                worker.wait_metrics(max(1.0, deadline - time.monotonic()))
        while time.monotonic() < deadline:
            owned = sum(worker.assigned_partitions() for worker in self.workers if worker.running)
            if owned >= self.settings.topic_partitions:
                return
            time.sleep(0.25)
        raise TimeoutError(f"workers did not take all {self.settings.topic_partitions} partitions in {timeout:.0f} s")

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        if self.broker is not None:
            self.broker.stop()
            self.broker = None

    def __enter__(self) -> LocalStack:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
