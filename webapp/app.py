"""The app factory: one producer and one database engine per app lifetime, errors as JSON.

Every error response is ``{"error": {"reason": ..., "message": ...}}``. Unexpected exceptions are
logged here, server-side, and the client gets a generic 500 without a stack trace or a path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.config import Settings
from ingest.sandbox import SandboxLimits
from schemas.errors import InvalidRecording
from storage.errors import DatabaseUnavailable
from webapp.admission import Admission
from webapp.auth import AuthError, auth_config, auth_error_response, database_unavailable_response
from webapp.clinic import clinic_router
from webapp.comparison import comparison_router
from webapp.deadlines import BodyDeadline
from webapp.errors import GatewayError, error_body, status_for
from webapp.history import history_router
from webapp.keeping import keep_identity, keep_tracing
from webapp.login import router as login_router
from webapp.overread import overread_router
from webapp.overread_events import republish_forever
from webapp.routes import router
from webapp.service import GATEWAY_SOURCE, UploadService
from webapp.state import GatewayState, default_max_upload_bytes
from webapp.worklist import worklist_router

__all__ = ["create_app"]

logger = logging.getLogger(__name__)

SECURITY_HEADERS = [
    # everything comes from this server: no CDN, no inline script, no framing
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; object-src 'none'; "
     b"frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]  # fmt: skip


class SecurityHeaders:
    """Pure ASGI middleware adding ``SECURITY_HEADERS`` to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)


async def _gateway_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GatewayError)
    body = error_body(exc.reason, exc.message, **exc.details)
    return JSONResponse(body, status_code=exc.status, headers=exc.headers or None)


async def _invalid_recording(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidRecording)
    return JSONResponse(error_body(exc.reason, exc.message), status_code=status_for(exc))


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    reason = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "bad_request")
    message = exc.detail if isinstance(exc.detail, str) else "bad request"
    return JSONResponse(error_body(reason, message), status_code=exc.status_code, headers=exc.headers)


async def _validation_error(_request: Request, _exc: Exception) -> JSONResponse:
    return JSONResponse(error_body("invalid_request", "the request is malformed"), status_code=422)


async def _client_disconnected(request: Request, _exc: Exception) -> JSONResponse:
    """A client that went away mid-request: one line, no traceback; the answer reaches nobody."""
    logger.warning("client disconnected before the request was read", extra={"route": request.url.path})
    return JSONResponse(error_body("client_disconnected", "the request was aborted"), status_code=400)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.error(
        "unexpected error in the gateway",
        exc_info=exc,
        extra={"method": request.method, "route": request.url.path},
    )
    return JSONResponse(
        error_body("internal_error", "something went wrong on the server; it has been logged"),
        status_code=500,
    )


def create_app(settings: Settings, bootstrap: str, *, max_upload_bytes: int | None = None) -> FastAPI:
    """The gateway app publishing to ``bootstrap``; connections open in its lifespan.

    ``max_upload_bytes`` bounds the files of one upload (default: 4 x ``settings.max_recording_bytes``).
    """
    from core.kafka_security import KafkaSecurity
    from core.topics import create_topics
    from ingest.publisher import Publisher
    from storage import create_engine

    upload_limit = max_upload_bytes or default_max_upload_bytes(settings)
    kafka_options = KafkaSecurity.from_settings(settings).aiokafka_options()
    # aiokafka's producer logs every message value (signal, patient reference) at DEBUG: never allow that
    producer_log = logging.getLogger("aiokafka.producer.producer")
    producer_log.setLevel(max(logging.INFO, producer_log.getEffectiveLevel()))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await create_topics(settings, bootstrap, (settings.recordings_topic, settings.overreads_topic))
        publisher = Publisher(
            bootstrap,
            settings.recordings_topic,
            max_recording_bytes=settings.max_recording_bytes,
            linger_ms=0,
            source=GATEWAY_SOURCE,
            client_id=GATEWAY_SOURCE,
            patient_key_secret=settings.patient_hmac_secret,
            client_options=kafka_options,
        )
        engine = create_engine(settings.effective_database_url)
        await publisher.start()
        app.state.gateway = GatewayState(
            settings,
            UploadService(
                publisher,
                settings.max_recording_bytes,
                SandboxLimits(
                    settings.parse_memory_bytes,
                    settings.parse_timeout_seconds,
                    settings.parse_concurrency,
                    settings.parse_timeout_seconds,
                ),
                keep_tracing=partial(keep_tracing, engine),
                keep_identity=partial(keep_identity, engine, settings.patient_hmac_secret),
            ),
            engine,
            upload_limit,
        )
        logger.info(
            "gateway ready", extra={"topic": settings.recordings_topic, "max_upload_bytes": upload_limit}
        )
        republisher = asyncio.create_task(
            republish_forever(
                engine, publisher, settings.overreads_topic, settings.overread_republish_seconds
            )
        )
        try:
            yield
        finally:
            republisher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await republisher
            await publisher.stop()
            await engine.dispose()

    app = FastAPI(
        title="ecgstream upload gateway",
        lifespan=lifespan,
        docs_url=None,  # the Swagger UI loads from a CDN
        redoc_url=None,
        openapi_url=None,  # served by webapp.routes behind a credential: only /healthz and /static/ are open
    )
    app.state.auth = auth_config(settings)
    app.state.renders = Admission(
        "renders", settings.render_max_pending, settings.render_max_per_principal, 2
    )
    app.state.logins = Admission("sign_ins", settings.login_max_pending, None, 1)
    app.add_middleware(BodyDeadline, seconds=settings.request_body_timeout_seconds,
                       upload_seconds=settings.upload_body_timeout_seconds)  # fmt: skip
    app.add_middleware(SecurityHeaders)
    app.add_exception_handler(GatewayError, _gateway_error)
    app.add_exception_handler(AuthError, auth_error_response)
    app.add_exception_handler(DatabaseUnavailable, database_unavailable_response)
    app.add_exception_handler(InvalidRecording, _invalid_recording)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ClientDisconnect, _client_disconnected)
    app.add_exception_handler(Exception, _unexpected)
    app.include_router(router)
    app.include_router(clinic_router)
    app.include_router(history_router)
    app.include_router(comparison_router)
    app.include_router(overread_router)
    app.include_router(worklist_router)
    app.include_router(login_router)
    static = files("webapp").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    return app
