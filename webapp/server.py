"""Serve the gateway with uvicorn until SIGINT/SIGTERM: deadlines on every request, the port bound first.

``server_config`` is the one uvicorn configuration (used by ``ecgstream gateway``, ``ecgstream up``'s
gateway process and the tests): h11 with header and body deadlines (``webapp.deadlines``), 16 KiB
of headers at most, idle keep-alive connections closed after 5 s, no ``Server`` header, and the
peer address never rewritten from ``X-Forwarded-For``. ``run_gateway`` binds the port before it
connects anywhere, so a port that another program holds fails at once with ``PortInUse``.
"""

from __future__ import annotations

import errno
import logging
import socket
from typing import Any

from core.config import Settings
from core.errors import EcgstreamError
from core.stack_info import resolve_bootstrap
from webapp.deadlines import deadline_protocol

__all__ = ["run_gateway", "server_config", "bind_gateway_socket", "PortInUse", "BODY_BACKSTOP_SECONDS"]

logger = logging.getLogger(__name__)

BODY_BACKSTOP_SECONDS = 5.0  # the connection closes this long after the app's own body deadline
MAX_HEADER_BYTES = 16 * 1024
KEEP_ALIVE_SECONDS = 5


class PortInUse(EcgstreamError, OSError):
    """Another program listens on the gateway's address (the message says how to choose another port)."""


def bind_gateway_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (not yet listening); ``PortInUse`` when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(
                f"{host}:{port} is already in use by another program: stop it, or choose another port with "
                f"--port N (or GATEWAY_PORT=N)"
            ) from None
        raise
    return sock


def server_config(app: Any, settings: Settings, *, host: str | None = None, port: int | None = None) -> Any:
    """The ``uvicorn.Config`` every gateway runs with (see the module docstring)."""
    import uvicorn

    slowest_body = max(settings.upload_body_timeout_seconds, settings.request_body_timeout_seconds)
    protocol = deadline_protocol(settings.request_header_timeout_seconds, slowest_body + BODY_BACKSTOP_SECONDS)
    return uvicorn.Config(
        app,
        host=host or settings.gateway_host,
        port=settings.gateway_port if port is None else port,
        http=protocol,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        log_config=None,  # keep ecgstream's JSON logging
        lifespan="on",
        server_header=False,
        proxy_headers=False,  # the peer address decides whether an SSO header is trusted: never rewrite it
        timeout_graceful_shutdown=10,
    )


def run_gateway(settings: Settings) -> None:
    """Serve on ``settings.gateway_host:gateway_port``; raises ``NoBrokerConfigured`` without a broker,
    ``InsecureConfiguration`` outside the development stack without a real PATIENT_HMAC_SECRET and
    ``PortInUse`` when the port is taken (all before connecting anywhere)."""
    import uvicorn

    from core.secret_check import require_patient_secret
    from webapp.app import create_app

    require_patient_secret(settings)
    bootstrap = resolve_bootstrap(settings)
    sock = bind_gateway_socket(settings.gateway_host, settings.gateway_port)
    app = create_app(settings, bootstrap)
    logger.info("gateway starting", extra={"host": settings.gateway_host, "port": settings.gateway_port})
    uvicorn.Server(server_config(app, settings)).run(sockets=[sock])
