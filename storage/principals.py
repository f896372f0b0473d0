"""Reads and writes of access-control rows: tokens, users, login sessions, recording owners.

The gateway and the ``ecgstream token`` / ``ecgstream user`` commands call these; connection
failures raise ``DatabaseUnavailable`` like every other storage call. Password hashing is CPU-bound
and runs in a thread (at most two at once, so a burst of logins cannot exhaust memory).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Update, and_, case, delete, insert, literal, null, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.auth_models import ApiToken, LoginSession, RecordingOwner, User
from storage.credentials import (
    dummy_password_hash,
    hash_password,
    new_session_secret,
    new_token,
    parse_token,
    secret_matches,
    sha256_hex,
    verify_password,
)
from storage.errors import translate_errors
from storage.models import UtcDateTime

__all__ = [
    "TokenInfo", "UserInfo", "create_token", "list_tokens", "revoke_token", "authenticate_token",
    "create_user", "set_password", "disable_user", "list_users", "check_login",
    "create_session", "session_user", "delete_session", "record_owner", "recording_owner",
]  # fmt: skip

_HASHING = threading.BoundedSemaphore(2)  # scrypt holds 32 MiB while it runs


@dataclass(frozen=True)
class TokenInfo:
    token_id: str
    name: str
    scopes: frozenset[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class UserInfo:
    username: str
    scopes: frozenset[str]
    disabled: bool


def _now() -> datetime:
    return datetime.now(UTC)


def _scopes(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _token_info(row: ApiToken) -> TokenInfo:
    return TokenInfo(row.token_id, row.name, _scopes(row.scopes), row.created_at, row.expires_at, row.revoked_at)


async def create_token(
    engine: AsyncEngine, name: str, scopes: Iterable[str], expires_at: datetime | None = None
) -> tuple[TokenInfo, str]:
    """A new token row; returns its info and the token itself (shown once, never stored)."""
    token_id, secret, token = new_token()
    values = {"token_id": token_id, "name": name, "scopes": " ".join(sorted(set(scopes))),
              "secret_sha256": sha256_hex(secret), "expires_at": expires_at}  # fmt: skip
    with translate_errors("create_token"):
        async with engine.begin() as conn:
            await conn.execute(insert(ApiToken).values(**values))
            row = (await conn.execute(select(ApiToken).where(ApiToken.token_id == token_id))).one()
    return _token_info(ApiToken(**row._asdict())), token


async def list_tokens(engine: AsyncEngine) -> list[TokenInfo]:
    with translate_errors("list_tokens"):
        async with engine.connect() as conn:
            rows = (await conn.execute(select(ApiToken).order_by(ApiToken.created_at))).all()
    return [_token_info(ApiToken(**row._asdict())) for row in rows]


async def revoke_token(engine: AsyncEngine, token_id: str) -> bool:
    """Mark a token revoked (kept for the audit trail); False when there is no such active token."""
    statement = (
        update(ApiToken)
        .where(ApiToken.token_id == token_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=_now())
    )
    with translate_errors("revoke_token"):
        async with engine.begin() as conn:
            return bool((await conn.execute(statement)).rowcount)


async def authenticate_token(engine: AsyncEngine, token: str, now: datetime | None = None) -> TokenInfo | None:
    """The token's info when it is well formed, known, matches, unrevoked and unexpired; else None."""
    parsed = parse_token(token)
    if parsed is None:
        return None
    token_id, secret = parsed
    with translate_errors("authenticate_token"):
        async with engine.connect() as conn:
            row = (await conn.execute(select(ApiToken).where(ApiToken.token_id == token_id))).first()
    if row is None:
        secret_matches(secret, "0" * 64)  # the same work as for a known id
        return None
    token_row = ApiToken(**row._asdict())
    if not secret_matches(secret, token_row.secret_sha256) or token_row.revoked_at is not None:
        return None
    if token_row.expires_at is not None and token_row.expires_at <= (now or _now()):
        return None
    return _token_info(token_row)


def _bounded_hash(password: str) -> str:
    with _HASHING:
        return hash_password(password)


def _bounded_verify(password: str, encoded: str) -> bool:
    with _HASHING:
        return verify_password(password, encoded)


async def _hash(password: str) -> str:
    return await asyncio.to_thread(_bounded_hash, password)


async def _verify(password: str, encoded: str) -> bool:
    return await asyncio.to_thread(_bounded_verify, password, encoded)


async def create_user(engine: AsyncEngine, username: str, password: str, scopes: Iterable[str]) -> None:
    """Insert a user (``StorageError`` if the name is taken)."""
    values = {"username": username, "password_hash": await _hash(password), "scopes": " ".join(sorted(set(scopes)))}
    with translate_errors("create_user"):
        async with engine.begin() as conn:
            await conn.execute(insert(User).values(**values))


async def set_password(engine: AsyncEngine, username: str, password: str, scopes: Iterable[str] | None = None) -> bool:
    """New password (and scopes), re-enabled and unlocked; other sessions end. False if no such user."""
    values: dict[str, object] = {"password_hash": await _hash(password), "disabled_at": None,
                                 "failed_logins": 0, "locked_until": None}  # fmt: skip
    if scopes is not None:
        values["scopes"] = " ".join(sorted(set(scopes)))
    with translate_errors("set_password"):
        async with engine.begin() as conn:
            changed = (await conn.execute(update(User).where(User.username == username).values(**values))).rowcount
            await conn.execute(delete(LoginSession).where(LoginSession.username == username))
    return bool(changed)


async def disable_user(engine: AsyncEngine, username: str) -> bool:
    """Disable a user and end their sessions; False if there is no such user."""
    with translate_errors("disable_user"):
        async with engine.begin() as conn:
            changed = (
                await conn.execute(update(User).where(User.username == username).values(disabled_at=_now()))
            ).rowcount
            await conn.execute(delete(LoginSession).where(LoginSession.username == username))
    return bool(changed)


async def list_users(engine: AsyncEngine) -> list[UserInfo]:
    with translate_errors("list_users"):
        async with engine.connect() as conn:
            rows = (await conn.execute(select(User.username, User.scopes, User.disabled_at))).all()
    return [UserInfo(name, _scopes(scopes), disabled is not None) for name, scopes, disabled in rows]


def _count_attempt(username: str, now: datetime, max_failures: int, lockout_seconds: int) -> Update:
    """Count one sign-in attempt of an enabled, unlocked account, atomically, before its password is checked.

    One statement (Postgres and SQLite evaluate every SET expression on the old row, and the row lock or
    the database write lock orders concurrent attempts): ``failed_logins`` + 1 (1 again once an earlier
    lock has expired), and the lock set by the attempt that reaches ``max_failures``. A right password
    then resets both (``_reset_failures``). Returns the new count, the hash and the scopes; no row for
    an unknown, disabled or locked account.
    """
    expired = and_(User.locked_until.is_not(None), User.locked_until <= now)
    count = case((expired, literal(1)), else_=User.failed_logins + 1)
    lock = literal(now + timedelta(seconds=lockout_seconds), UtcDateTime())
    return (
        update(User)
        .where(User.username == username, User.disabled_at.is_(None),
               or_(User.locked_until.is_(None), User.locked_until <= now))
        .values(failed_logins=count, locked_until=case((count >= max_failures, lock), else_=null()))
        .returning(User.failed_logins, User.password_hash, User.scopes)
    )  # fmt: skip


async def check_login(
    engine: AsyncEngine, username: str, password: str, *, max_failures: int, lockout_seconds: int
) -> UserInfo | None:
    """The user when the password is right and the account enabled and unlocked; else None.

    Every attempt is counted before its password is checked (``_count_attempt``), so guesses sent in
    parallel cannot outrun the lock: at most ``max_failures`` of them are ever compared with the hash,
    and the one that reaches the limit locks the account for ``lockout_seconds`` (unless it is right).
    Every path costs the same work: one UPDATE and one scrypt (against a dummy hash for unknown,
    disabled and locked accounts), so neither names nor locks show in the timing.
    """
    statement = _count_attempt(username, _now(), max_failures, lockout_seconds)
    with translate_errors("check_login"):
        async with engine.begin() as conn:
            row = (await conn.execute(statement)).first()
    if row is None:
        await _verify(password, dummy_password_hash())
        return None
    if not await _verify(password, row.password_hash):
        return None
    reset = update(User).where(User.username == username).values(failed_logins=0, locked_until=None)
    with translate_errors("check_login"):
        async with engine.begin() as conn:
            await conn.execute(reset)
    return UserInfo(username, _scopes(row.scopes), False)


async def create_session(engine: AsyncEngine, username: str, max_age_seconds: int) -> str:
    """A new session; returns the cookie value (only its SHA-256 is stored)."""
    secret = new_session_secret()
    values = {"session_sha256": sha256_hex(secret), "username": username,
              "expires_at": _now() + timedelta(seconds=max_age_seconds)}  # fmt: skip
    with translate_errors("create_session"):
        async with engine.begin() as conn:
            await conn.execute(delete(LoginSession).where(LoginSession.expires_at <= _now()))
            await conn.execute(insert(LoginSession).values(**values))
    return secret


async def session_user(engine: AsyncEngine, secret: str) -> UserInfo | None:
    """The enabled user of an unexpired session, else None."""
    statement = (
        select(User.username, User.scopes)
        .join_from(LoginSession, User, LoginSession.username == User.username)
        .where(LoginSession.session_sha256 == sha256_hex(secret), LoginSession.expires_at > _now(),
               User.disabled_at.is_(None))
    )  # fmt: skip
    with translate_errors("session_user"):
        async with engine.connect() as conn:
            row = (await conn.execute(statement)).first()
    return None if row is None else UserInfo(row.username, _scopes(row.scopes), False)


async def delete_session(engine: AsyncEngine, secret: str) -> None:
    with translate_errors("delete_session"):
        async with engine.begin() as conn:
            await conn.execute(delete(LoginSession).where(LoginSession.session_sha256 == sha256_hex(secret)))


async def record_owner(engine: AsyncEngine, recording_id: str, principal: str) -> None:
    """File an upload under its principal; the time (microseconds, also on SQLite) orders the history."""
    values = {"recording_id": recording_id, "principal": principal, "created_at": _now()}
    with translate_errors("record_owner"):
        async with engine.begin() as conn:
            await conn.execute(insert(RecordingOwner).values(**values))


async def recording_owner(engine: AsyncEngine, recording_id: str) -> str | None:
    statement = select(RecordingOwner.principal).where(RecordingOwner.recording_id == recording_id)
    with translate_errors("recording_owner"):
        async with engine.connect() as conn:
            return (await conn.execute(statement)).scalar_one_or_none()
