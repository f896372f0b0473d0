"""A TCP proxy for outage tests: 127.0.0.1:<port> -> a real server, with switchable outages.

Used by the storage tests (pool recovery) and the fault tests (database down mid-stream). Runs its
own asyncio loop in a background thread, so it works from sync and async tests alike.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from typing import Any

__all__ = ["TcpProxy"]


class TcpProxy:
    """127.0.0.1:<port> -> target, in a background asyncio thread; ``outage()`` makes the target unreachable.

    An outage closes the listening socket (new connections are refused) and aborts every proxied
    connection (open ones die mid-stream); ``restore()`` listens again on the same port.
    """

    def __init__(self, target_host: str, target_port: int, ssl_context: ssl.SSLContext | None = None) -> None:
        """``ssl_context``: terminate TLS on the listening side (the target still speaks plain TCP)."""
        self.target = (target_host, target_port)
        self.ssl_context = ssl_context
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="tcp-proxy", daemon=True)
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.connections = 0

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    def start(self) -> TcpProxy:
        self._thread.start()
        self._call(self._listen())
        return self

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", self.port, reuse_address=True, ssl=self.ssl_context
        )

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return
        self.connections += 1
        self._writers |= {client_writer, server_writer}

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                writer.transport.abort()

        await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))
        self._writers -= {client_writer, server_writer}

    async def _outage(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def outage(self) -> None:
        self._call(self._outage())

    def restore(self) -> None:
        self._call(self._listen())

    def close(self) -> None:
        try:
            self._call(self._outage())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(5)
