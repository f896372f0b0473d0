"""The local stack: broker (embedded Tansu unless KAFKA_BOOTSTRAP), migrated database, worker processes.

Used by ``ecgstream demo``, ``ecgstream up`` and the end-to-end and fault tests, so all of them run
the very same processes a deployment runs. Workers are separate OS processes (``ecgstream worker``),
so they can be killed, restarted and scaled like real ones; so are the web gateway
(``ecgstream gateway``) and the exporter (``ecgstream export``) when the caller starts them.
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
from typing import Self
from urllib.parse import urlsplit

from core.config import Settings, settings_to_env
from core.private_files import open_private_log, private_folder
from ecgstream.embedded import TansuBroker, free_port, wait_for_port
from ecgstream.supervision import Supervisor

__all__ = ["LocalStack", "WorkerProcess", "ChildProcess", "MetricsChildProcess", "export_destinations"]

logger = logging.getLogger(__name__)


class ChildProcess:
    """One ecgstream OS process (``python -m ecgstream.cli <command>``) logging to its own file.

    ``start()`` may be called again after the process died: the supervisor restarts it that way,
    with the same environment, ports and log file (appended to).
    """

    def __init__(self, command: str, env: dict[str, str], log_path: Path, name: str) -> None:
        self.command = command
        self.name = name
        self.log_path = log_path
        self._env = dict(env)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        log = open_private_log(self.log_path)  # handed to the child process
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ecgstream.cli", self.command], env=self._env, stdout=log, stderr=log
        )
        log.close()
        return self

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    @property
    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()

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


class MetricsChildProcess(ChildProcess):
    """A child process serving /metrics on a free port of its own, passed in ``port_variable``."""

    def __init__(self, command: str, env: dict[str, str], log_path: Path, name: str, port_variable: str) -> None:
        self.metrics_port = free_port()
        super().__init__(command, {**env, port_variable: str(self.metrics_port)}, log_path, name)

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    def wait_metrics(self, timeout: float = 60.0) -> None:
        """Block until the process serves /metrics (a worker: model loaded, about to join the group)."""
        wait_for_port("127.0.0.1", self.metrics_port, timeout)


class WorkerProcess(MetricsChildProcess):
    """One ``ecgstream worker`` OS process with its own /metrics port and log file."""

    def __init__(self, env: dict[str, str], log_path: Path, name: str) -> None:
        super().__init__("worker", env, log_path, name, "METRICS_PORT")

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


def export_destinations(settings: Settings) -> list[str]:
    """Where ``ecgstream export`` delivers with these settings, in words (no URL path, query or
    credentials); empty when neither FHIR_BASE_URL nor HL7_MLLP_HOST is set."""
    destinations = []
    if settings.fhir_base_url:
        parts = urlsplit(settings.fhir_base_url)
        port = f":{parts.port}" if parts.port else ""
        destinations.append(f"FHIR server {parts.scheme}://{parts.hostname or ''}{port}")
    if settings.hl7_mllp_host:
        destinations.append(f"HL7 receiver {settings.hl7_mllp_host}:{settings.hl7_mllp_port} (MLLP)")
    return destinations


class LocalStack:
    """Broker + migrated database + N worker processes; a context manager that cleans up after itself."""

    def __init__(self, settings: Settings, *, workers: int = 1, log_dir: Path | None = None) -> None:
        self.settings = settings
        self.n_workers = workers
        self.log_dir = log_dir or settings.home / "logs"
        self.broker: TansuBroker | None = None
        self.bootstrap = settings.kafka_bootstrap or ""
        self.workers: list[WorkerProcess] = []
        self.gateway: ChildProcess | None = None
        self.exporter: MetricsChildProcess | None = None
        self.supervisor = Supervisor()

    @property
    def database_url(self) -> str:
        return self.settings.effective_database_url

    def child_env(self) -> dict[str, str]:
        """Environment for child processes: the same settings, the resolved broker and database."""
        env = dict(os.environ)
        env.update(settings_to_env(self.settings))
        env.update(KAFKA_BOOTSTRAP=self.bootstrap, DATABASE_URL=self.database_url)
        # the children of a loopback development stack (embedded broker, SQLite file: `up`, `demo`) may
        # keep the development PATIENT_HMAC_SECRET; secret_check re-checks loopback + SQLite
        development = self.settings.embedded_broker and self.database_url.startswith("sqlite")
        env["ECGSTREAM_EMBEDDED_STACK"] = "true" if development else "false"
        return env

    def start(self) -> LocalStack:
        from core.topics import create_topics
        from storage import upgrade

        private_folder(self.settings.home)
        private_folder(self.log_dir)
        if self.settings.embedded_broker:
            self.broker = TansuBroker(
                log_path=self.log_dir / "tansu.log",
                storage=self.settings.embedded_broker_storage,
                binary=self.settings.tansu_binary,
            ).start()
            self.bootstrap = self.broker.bootstrap
            if self.broker.durable:  # a restarted broker still has every message it acknowledged
                self.supervisor.watch(self.broker)
        upgrade(self.database_url)
        asyncio.run(create_topics(self.settings, self.bootstrap))
        for _ in range(self.n_workers):
            self.add_worker()
        return self

    def add_worker(self) -> WorkerProcess:
        index = len(self.workers)
        worker = WorkerProcess(self.child_env(), self.log_dir / f"worker-{index}.log", f"worker-{index}")
        self.workers.append(worker.start())
        self.supervisor.watch(worker)
        logger.info("worker process started", extra={"worker": worker.name, "metrics_port": worker.metrics_port})
        return worker

    def start_gateway(self) -> ChildProcess:
        """Start the web upload gateway (supervised like the workers)."""
        self.gateway = ChildProcess("gateway", self.child_env(), self.log_dir / "gateway.log", "gateway").start()
        self.supervisor.watch(self.gateway)
        return self.gateway

    def start_exporter(self) -> MetricsChildProcess:
        """Start ``ecgstream export`` (supervised like the workers), its /metrics on a free port and its
        log in ``exporter.log``; for a stack that delivers to a FHIR server or an HL7 receiver."""
        exporter = MetricsChildProcess("export", self.child_env(), self.log_dir / "exporter.log", "exporter",
                                       "EXPORT_METRICS_PORT")  # fmt: skip
        self.exporter = exporter.start()
        self.supervisor.watch(exporter)
        logger.info("exporter process started", extra={"metrics_port": exporter.metrics_port})
        return exporter

    def supervise(self) -> str | None:
        """Restart crashed workers, gateway and exporter (with backoff); a message when one keeps failing fast.

        Call it periodically (``ecgstream up`` does). A restarted worker rejoins the consumer group
        and resumes from the last committed offsets: nothing it had accepted is lost, since its
        offsets are committed only after the database write and the diagnosis events succeeded.
        """
        broker = self.broker
        if broker is not None and not broker.durable and not broker.running:
            return (
                f"the embedded broker exited (code {broker.exit_code}); it kept its messages in memory, so "
                "recordings published but not yet diagnosed are lost (EMBEDDED_BROKER_STORAGE makes it durable)"
            )
        return self.supervisor.check()

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
        processes: list[ChildProcess] = [*self.workers, *(p for p in (self.gateway, self.exporter) if p is not None)]
        for process in processes:
            self.supervisor.forget(process)
        for process in processes:
            process.stop()
        if self.broker is not None:
            self.supervisor.forget(self.broker)
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
