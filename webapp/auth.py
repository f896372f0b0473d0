"""Who is calling, and may they: API tokens, login sessions, trusted SSO headers, scopes, CSRF.

A request is authenticated by the first of these that it carries:

1. ``Authorization: Bearer ecgs_<id>_<secret>``: a device's or integration's API token
   (``ecgstream token create``). A present but invalid, expired or revoked token is a 401, never
   a fall-through to another method.
2. The ``ecgstream_session`` cookie of a person who signed in on ``/login`` (``ecgstream user create``).
3. The ``SSO_USER_HEADER`` (``X-Forwarded-User``) set by an SSO reverse proxy, believed only when the
   TCP peer is inside ``TRUSTED_PROXY_CIDRS``; from anywhere else it is ignored and logged.

Scopes: ``recordings:write`` (upload), ``recordings:read`` (read what this principal uploaded),
``results:read:all`` (read every recording), ``results:confirm`` (a physician: the overread worklist,
confirm / edit / reject the recordings it may read), ``admin`` (everything). Browser-borne credentials
(cookie, SSO) must also send the page's CSRF token with every POST; bearer tokens need not, as a
browser never attaches them by itself.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from fastapi import Request
from fastapi.responses import JSONResponse

from core.config import Settings, parse_cookie_secure
from storage.principals import authenticate_token, recording_owner, session_user
from webapp.errors import GatewayError, error_body

__all__ = [
    "SCOPES", "RECORDINGS_WRITE", "RECORDINGS_READ", "RESULTS_READ_ALL", "RESULTS_CONFIRM", "ADMIN", "SESSION_COOKIE",
    "Principal", "AuthConfig", "AuthError", "authenticate", "require_scope", "check_csrf", "csrf_token",
    "authorize_read", "visible_owner", "auth_error_response", "auth_config", "database_unavailable_response",
]  # fmt: skip

logger = logging.getLogger(__name__)

RECORDINGS_WRITE = "recordings:write"
RECORDINGS_READ = "recordings:read"
RESULTS_READ_ALL = "results:read:all"
RESULTS_CONFIRM = "results:confirm"
ADMIN = "admin"
SCOPES = (RECORDINGS_WRITE, RECORDINGS_READ, RESULTS_READ_ALL, RESULTS_CONFIRM, ADMIN)
SESSION_COOKIE = "ecgstream_session"
_SSO_NAME = re.compile(r"^[A-Za-z0-9._@+-]{1,128}$")


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. ``key`` (``token:<id>``, ``user:<name>``, ``sso:<name>``) owns uploads."""

    kind: Literal["token", "user", "sso"]
    name: str
    scopes: frozenset[str]
    session: str | None = None  # the session cookie value, for binding CSRF tokens

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.name}"

    def allows(self, scope: str) -> bool:
        return ADMIN in self.scopes or scope in self.scopes

    @property
    def reads_all(self) -> bool:
        return self.allows(RESULTS_READ_ALL)

    @property
    def confirms(self) -> bool:
        """May overread (confirm, edit, reject) results: ``results:confirm``."""
        return self.allows(RESULTS_CONFIRM)

    @property
    def browser_borne(self) -> bool:
        """Credentials a browser sends by itself (cookie, proxy header): CSRF applies."""
        return self.kind != "token"


@dataclass(frozen=True)
class AuthConfig:
    """The gateway's authentication settings, parsed once per app."""

    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    sso_user_header: str
    sso_scopes: frozenset[str]
    csrf_key: bytes
    session_max_age: int
    cookie_secure: str  # "true", "false" or "auto"
    login_max_failures: int
    login_lockout_seconds: int

    def cookie_is_secure(self, request: Request) -> bool:
        if self.cookie_secure in {"true", "false"}:
            return self.cookie_secure == "true"
        return request.url.scheme == "https"


def auth_config(settings: Settings) -> AuthConfig:
    """Parse the settings; a malformed ``TRUSTED_PROXY_CIDRS`` or ``SESSION_COOKIE_SECURE`` raises
    ``ValueError`` (``ConfigError`` for the latter) at start-up; ``load_settings`` checks both first."""
    networks = tuple(
        ipaddress.ip_network(part.strip(), strict=False)
        for part in settings.trusted_proxy_cidrs.split(",")
        if part.strip()
    )
    key = settings.session_secret.encode() if settings.session_secret else secrets.token_bytes(32)
    return AuthConfig(
        trusted_proxies=networks,
        sso_user_header=settings.sso_user_header.lower(),
        sso_scopes=frozenset(settings.sso_scopes.split()),
        csrf_key=key,
        session_max_age=settings.session_max_age,
        cookie_secure=parse_cookie_secure(settings.session_cookie_secure),  # true/1/yes/on, false/0/no/off, auto
        login_max_failures=settings.login_max_failures,
        login_lockout_seconds=settings.login_lockout_seconds,
    )


class AuthError(GatewayError):
    """401 (who are you?), 403 (not allowed) or a CSRF failure; 401s carry ``WWW-Authenticate``."""


def _unauthenticated(message: str = "sign in, or send an API token as `Authorization: Bearer <token>`") -> AuthError:
    return AuthError(401, "unauthenticated", message)


async def auth_error_response(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AuthError)
    headers = {"WWW-Authenticate": 'Bearer realm="ecgstream"'} if exc.status == 401 else None
    return JSONResponse(error_body(exc.reason, exc.message), status_code=exc.status, headers=headers)


async def database_unavailable_response(_request: Request, exc: Exception) -> JSONResponse:
    """Credentials cannot be checked while the database is down: 503, never a silent pass."""
    logger.warning("credential check: database unavailable", extra={"error": type(exc).__name__})
    body = error_body("database_unavailable", "the database is unavailable; try again shortly")
    return JSONResponse(body, status_code=503)


def _peer_is_trusted(request: Request, config: AuthConfig) -> bool:
    if request.client is None or not config.trusted_proxies:
        return False
    try:
        address = ipaddress.ip_address(request.client.host)
    except ValueError:
        return False
    return any(address in network for network in config.trusted_proxies)


def _sso_principal(request: Request, config: AuthConfig) -> Principal | None:
    name = request.headers.get(config.sso_user_header)
    if name is None:
        return None
    if not _peer_is_trusted(request, config):
        logger.warning(
            "SSO user header from an untrusted address ignored",
            extra={"peer": request.client.host if request.client else None, "header": config.sso_user_header},
        )
        return None
    if not _SSO_NAME.match(name):
        raise _unauthenticated("the SSO proxy sent a malformed user name")
    return Principal("sso", name, config.sso_scopes)


async def authenticate(request: Request) -> Principal | None:
    """The caller, None when the request carries no credentials; 401 for a bad bearer token."""
    engine = request.app.state.gateway.engine
    config: AuthConfig = request.app.state.auth
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise _unauthenticated("send the API token as `Authorization: Bearer <token>`")
        info = await authenticate_token(engine, value.strip())
        if info is None:
            raise _unauthenticated("the API token is invalid, expired or revoked")
        return Principal("token", info.token_id, info.scopes)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        user = await session_user(engine, cookie)
        if user is not None:
            return Principal("user", user.username, user.scopes, session=cookie)
    return _sso_principal(request, config)


def require_scope(*scopes: str) -> Callable[[Request], Awaitable[Principal]]:
    """A FastAPI dependency: the caller, 401 without credentials, 403 without any of ``scopes``."""

    async def dependency(request: Request) -> Principal:
        principal = await authenticate(request)
        if principal is None:
            raise _unauthenticated()
        if not any(principal.allows(scope) for scope in scopes):
            logger.info("request refused: missing scope", extra={"principal": principal.key, "needs": list(scopes)})
            raise AuthError(403, "forbidden", f"this credential lacks the scope {' or '.join(scopes)}")
        return principal

    return dependency


def csrf_token(config: AuthConfig, principal: Principal) -> str:
    """The CSRF token of the page shown to ``principal``: an HMAC bound to its session."""
    binding = f"{principal.key}\n{principal.session or ''}".encode()
    return hmac.new(config.csrf_key, binding, hashlib.sha256).hexdigest()


def check_csrf(request: Request, principal: Principal, submitted: object) -> None:
    """403 when a browser-borne principal's POST lacks the page's CSRF token (form field or header)."""
    if not principal.browser_borne:
        return
    token = submitted if isinstance(submitted, str) and submitted else request.headers.get("x-csrf-token", "")
    if not hmac.compare_digest(token.encode(), csrf_token(request.app.state.auth, principal).encode()):
        raise AuthError(403, "csrf_failed", "the form is stale or came from another site; reload the page")


def visible_owner(principal: Principal) -> str | None:
    """The owner whose recordings a list may show ``principal``: None (all) with results:read:all."""
    return None if principal.reads_all else principal.key


async def authorize_read(request: Request, principal: Principal, recording_id: str) -> str | None:
    """The recording's owner; 404 (never 403, so ids are not confirmed) when the caller may not read it."""
    owner = await recording_owner(request.app.state.gateway.engine, recording_id)
    if principal.reads_all or (owner is not None and owner == principal.key):
        return owner
    raise GatewayError(404, "unknown_recording", "no such recording")
