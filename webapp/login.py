"""Sign in and out on the page: ``GET/POST /login``, ``POST /logout``.

The session is server-side (``login_sessions``; the cookie holds a 256-bit random value, the row its
SHA-256), the cookie is HttpOnly, SameSite=Strict and Secure over TLS. The login form carries a
double-submit CSRF token (a random value in a short-lived cookie and in the form); the logout form
the page's session-bound token. Wrong passwords lock the account (``LOGIN_MAX_FAILURES`` in a row
for ``LOGIN_LOCKOUT_SECONDS``, counted before each check: ``storage.principals.check_login``); every
failure gives the same message.

Timing tells nothing: every check costs one UPDATE and one scrypt, and every answer is sent on the
next multiple of ``ANSWER_QUANTUM_SECONDS`` after the request began (what a database write or a
name adds stays inside one step). Each attempt costs a scrypt, so at most ``LOGIN_MAX_PENDING``
are checked at once; beyond that the form answers 503 with ``Retry-After`` at once instead of
queueing (a flood then delays nobody's sign-in by more than that many hashes).
"""

from __future__ import annotations

import asyncio
import hmac
import html
import logging
import math
import secrets
import time
from functools import cache
from importlib.resources import files
from string import Template
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from storage.principals import check_login, create_session, delete_session
from webapp.auth import SESSION_COOKIE, AuthConfig, AuthError, authenticate, check_csrf
from webapp.body import read_small_body
from webapp.errors import Busy

__all__ = ["router", "LOGIN_FAILED", "LOGIN_BUSY", "ANSWER_QUANTUM_SECONDS"]

logger = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)
LOGIN_CSRF_COOKIE = "ecgstream_login_csrf"
LOGIN_FAILED = "Wrong user name or password, or the account is locked for a while after repeated failures."
LOGIN_BUSY = "Too many sign-ins at this moment; try again in a second."
MAX_FORM_BYTES = 4096
ANSWER_QUANTUM_SECONDS = 0.25  # > one scrypt (~0.1 s) + the database round trips


@cache
def _template() -> Template:
    return Template(files("webapp").joinpath("templates", "login.html").read_text("utf-8"))


async def _answer_on_the_quantum(started: float) -> None:
    """Sleep until the next multiple of ``ANSWER_QUANTUM_SECONDS`` since ``started`` (at least one)."""
    elapsed = time.monotonic() - started
    steps = max(1, math.ceil(elapsed / ANSWER_QUANTUM_SECONDS))
    await asyncio.sleep(steps * ANSWER_QUANTUM_SECONDS - elapsed)


def _login_page(request: Request, error: str = "", status: int = 200) -> HTMLResponse:
    config: AuthConfig = request.app.state.auth
    token = secrets.token_urlsafe(32)
    page = _template().substitute(
        csrf_token=token, error=html.escape(error), error_hidden="" if error else "hidden"
    )
    response = HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store"})
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, max_age=3600, path="/", httponly=True, samesite="strict",
        secure=config.cookie_is_secure(request),
    )  # fmt: skip
    return response


async def _small_form(request: Request) -> dict[str, str]:
    """The URL-encoded form of a login/logout POST, at most ``MAX_FORM_BYTES``."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise AuthError(415, "not_a_form", "send the form as application/x-www-form-urlencoded")
    body = await read_small_body(request, MAX_FORM_BYTES, AuthError(413, "form_too_large", "the form is too large"))
    parsed = parse_qs(body.decode("utf-8", errors="replace"), max_num_fields=8)
    return {name: values[0] for name, values in parsed.items()}


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request) -> HTMLResponse:
    return _login_page(request)


@router.post("/login")
async def login(request: Request) -> Response:
    config: AuthConfig = request.app.state.auth
    form = await _small_form(request)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(form.get("csrf_token", "").encode(), expected.encode()):
        return _login_page(request, "The sign-in form expired or came from another site; try again.", 403)
    username = form.get("username", "").strip()[:128]
    started = time.monotonic()
    try:
        with request.app.state.logins.enter():
            user = await check_login(
                request.app.state.gateway.engine, username, form.get("password", "")[:1024],
                max_failures=config.login_max_failures, lockout_seconds=config.login_lockout_seconds,
            )  # fmt: skip
    except Busy as busy:
        page = _login_page(request, LOGIN_BUSY, busy.status)
        page.headers.update(busy.headers)
        return page
    await _answer_on_the_quantum(started)
    if user is None:
        logger.info("sign-in failed", extra={"peer": request.client.host if request.client else None})
        return _login_page(request, LOGIN_FAILED, 401)
    session = await create_session(request.app.state.gateway.engine, user.username, config.session_max_age)
    logger.info("signed in", extra={"principal": f"user:{user.username}"})
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE, session, max_age=config.session_max_age, path="/", httponly=True, samesite="strict",
        secure=config.cookie_is_secure(request),
    )  # fmt: skip
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    principal = await authenticate(request)
    form = await _small_form(request)
    if principal is not None and principal.session is not None:
        check_csrf(request, principal, form.get("csrf_token"))
        await delete_session(request.app.state.gateway.engine, principal.session)
        logger.info("signed out", extra={"principal": principal.key})
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
