"""Serve the gateway with uvicorn until SIGINT/SIGTERM."""

from __future__ import annotations

import logging

from ecgstream.config import Settings
from ecgstream.stack_info import resolve_bootstrap

__all__ = ["run_gateway"]

logger = logging.getLogger(__name__)


def run_gateway(settings: Settings) -> None:
    """Serve on ``settings.gateway_host:gateway_port``; raises ``NoBrokerConfigured`` without a broker
    and ``InsecureConfiguration`` outside the development stack without a real PATIENT_HMAC_SECRET."""
    import uvicorn

    from ecgstream.secret_check import require_patient_secret
    from webapp.app import create_app

    require_patient_secret(settings)  # before connecting anywhere
    bootstrap = resolve_bootstrap(settings)
    app = create_app(settings, bootstrap)
    logger.info("gateway starting", extra={"host": settings.gateway_host, "port": settings.gateway_port})
    uvicorn.run(
        app,
        host=settings.gateway_host,
        port=settings.gateway_port,
        log_config=None,  # keep ecgstream's JSON logging
        server_header=False,
        proxy_headers=False,  # the peer address decides whether an SSO header is trusted: never rewrite it
        timeout_graceful_shutdown=10,
    )
