"""Deadlines on every request: the request line and headers, then the body (slow senders hold sockets).

uvicorn bounds the size of the headers (h11, 16 KiB) and closes idle keep-alive connections, but a
client that sends part of its headers, or part of a body that the route reads, keeps its socket and
task forever. Two layers close that:

- ``deadline_protocol``: uvicorn's h11 protocol with a timer per request. From the moment the
  connection opens (or the previous response ends) the client has ``header_seconds`` to send the
  request line and headers; then the connection gets a bare ``408`` and is closed. While the body
  is being sent, a backstop timer (``body_seconds``) closes it too, also for routes that never read
  the body.
- ``BodyDeadline``: ASGI middleware giving the app a JSON ``408`` (``request_timeout``, or
  ``upload_timeout`` on the upload route) when the body it reads is not complete in time.
"""

from __future__ import annotations

import asyncio

import h11
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from webapp.errors import RequestTimeout, UploadTimeout

__all__ = ["deadline_protocol", "BodyDeadline", "UPLOAD_PATH"]

UPLOAD_PATH = "/api/recordings"
_LAST_LOOK_SECONDS = 0.05
_BARE_408 = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


class _DeadlineH11Protocol(H11Protocol):
    """``H11Protocol`` whose requests must arrive (headers, then body) within the class's deadlines."""

    header_seconds = 10.0
    body_seconds = 70.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._timer: asyncio.TimerHandle | None = None
        self._phase = ""
        super().connection_made(transport)
        self._track()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._track()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._track()

    def connection_lost(self, exc: Exception | None) -> None:
        self._arm("", None)
        super().connection_lost(exc)

    def _track(self) -> None:
        """Arm the timer of the phase the client is in: headers (IDLE), body (SEND_BODY), none after."""
        state = self.conn.their_state
        if state is h11.IDLE:
            self._arm("headers", self.header_seconds)
        elif state is h11.SEND_BODY:
            self._arm("body", self.body_seconds)
        else:  # the whole request is in: the app answers in its own time
            self._arm("", None)

    def _arm(self, phase: str, seconds: float | None) -> None:
        if phase == self._phase:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._phase = phase
        if seconds is not None:
            self._timer = self.loop.call_later(seconds, self._expire)

    def _expire(self) -> None:
        self._timer = None
        if self.transport.is_closing():
            return
        if self._phase == "headers" and self.conn.our_state is h11.IDLE:
            self.transport.write(_BARE_408)  # a request that never began has no cycle to answer it
        self.logger.info("connection closed: request not received in time (%s)", self._phase)
        self.transport.close()


def deadline_protocol(header_seconds: float, body_seconds: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol with these deadlines (pass it as ``uvicorn.Config(http=...)``)."""
    return type("DeadlineH11Protocol", (_DeadlineH11Protocol,),
                {"header_seconds": header_seconds, "body_seconds": body_seconds})  # fmt: skip


class BodyDeadline:
    """Pure ASGI middleware: the request body must be complete within a deadline counted from its start.

    ``seconds`` for every route, ``upload_seconds`` for ``POST /api/recordings``. Once the body is
    complete, ``receive`` is passed through untouched (it then only waits for a disconnect).
    """

    def __init__(self, app: ASGIApp, seconds: float, upload_seconds: float) -> None:
        self.app = app
        self.seconds = seconds
        self.upload_seconds = upload_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = scope["method"] == "POST" and scope["path"] == UPLOAD_PATH
        seconds = self.upload_seconds if upload else self.seconds
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        complete = False

        async def bounded() -> Message:
            nonlocal complete
            if complete:
                return await receive()
            try:  # what has already arrived is taken even at the deadline (the server, not the client, was slow)
                message = await asyncio.wait_for(receive(), max(_LAST_LOOK_SECONDS, deadline - loop.time()))
            except TimeoutError:
                raise (UploadTimeout(seconds) if upload else RequestTimeout(seconds)) from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                complete = True
            return message

        await self.app(scope, bounded, send)
