"""Real receivers on 127.0.0.1 for the export tests: a FHIR server (http.server) and an MLLP listener (asyncio),
and a reader of a topic from its beginning.

Both answer from a script, so a test can make them fail first and succeed later; both record what
they received, with the time, so a test can check retries and their spacing.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message


@dataclass
class Received:
    at: float
    path: str
    headers: dict[str, str]
    body: bytes


class FhirTestServer:
    """Answers POSTs with the scripted statuses in turn (then 200 with a transaction-response)."""

    def __init__(self, statuses: Sequence[int] = (), retry_after: str | None = None) -> None:
        self.script = list(statuses)
        self.retry_after = retry_after
        self.received: list[Received] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with server._lock:
                    server.received.append(Received(time.monotonic(), self.path, dict(self.headers), body))
                    status = server.script.pop(0) if server.script else 200
                payload = {"resourceType": "Bundle", "type": "transaction-response"} if status < 300 else {
                    "resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "transient"}]}
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(data)))
                if status >= 300 and server.retry_after is not None:
                    self.send_header("Retry-After", server.retry_after)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/fhir"

    def __enter__(self) -> FhirTestServer:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class MllpTestServer:
    """An HL7 receiver: validates each framed message with hl7apy and answers an ACK from the script.

    Script items: an acknowledgement code (AA, AE, AR), ``close`` (hang up without answering),
    ``silent`` (never answer), ``other`` (AA for another message id); ``AA`` once the script is spent.
    """

    script: list[str] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    connections: int = 0
    _server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def __aenter__(self) -> MllpTestServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            data = await reader.readuntil(b"\x1c\x0d")
            self.raw.append(data)
            text = data[1:-2].decode("utf-8")
            message = parse_message(text, validation_level=VALIDATION_LEVEL.STRICT)
            assert message.validate()
            self.messages.append(text)
            action = self.script.pop(0) if self.script else "AA"
            if action == "close":
                return
            if action == "silent":
                await reader.read()  # until the sender gives up and hangs up
                return
            control_id = "someone-else" if action == "other" else message.msh.msh_10.to_er7()
            code = "AA" if action == "other" else action
            ack = (f"MSH|^~\\&|EHR|HOSP|ECGSTREAM||20260314093000||ACK^R01^ACK|ack-{control_id}|P|2.5.1\r"
                   f"MSA|{code}|{control_id}\r")  # fmt: skip
            writer.write(b"\x0b" + ack.encode() + b"\x1c\x0d")
            await writer.drain()
        finally:
            writer.close()


async def read_topic(bootstrap: str, topic: str, count: int, timeout: float = 60.0) -> list:  # type: ignore[type-arg]
    """Up to ``count`` records of ``topic`` from the beginning (all partitions), within ``timeout`` s."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])])
        await consumer.seek_to_beginning()
        records: list = []  # type: ignore[type-arg]
        deadline = asyncio.get_running_loop().time() + timeout
        while len(records) < count and asyncio.get_running_loop().time() < deadline:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(batch)
        return records
    finally:
        await consumer.stop()
