"""Tables of the gateway's access control: API tokens, people, login sessions, recording owners.

Secrets are never stored: a token row holds the SHA-256 of the token's random part, a user row an
scrypt hash of the password, a session row the SHA-256 of the cookie value. ``recording_owners`` is
written by the gateway when it accepts an upload (the worker never needs to know who uploaded).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UtcDateTime

__all__ = ["ApiToken", "User", "LoginSession", "RecordingOwner"]


class ApiToken(Base):
    """A device's or integration's token: ``ecgs_<token_id>_<secret>``, only the secret's hash kept."""

    __tablename__ = "api_tokens"

    token_id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    scopes: Mapped[str] = mapped_column(Text)  # space-separated
    secret_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.current_timestamp())
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class User(Base):
    """A person who signs in on the page with a password (scrypt hash)."""

    __tablename__ = "users"

    username: Mapped[str] = mapped_column(Text, primary_key=True)
    password_hash: Mapped[str] = mapped_column(Text)
    scopes: Mapped[str] = mapped_column(Text)  # space-separated
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.current_timestamp())
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    failed_logins: Mapped[int] = mapped_column(Integer, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)


class LoginSession(Base):
    """A server-side login session; the cookie holds the random value, the row its SHA-256."""

    __tablename__ = "login_sessions"
    __table_args__ = (Index(None, "username"),)

    session_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(Text, ForeignKey("users.username", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.current_timestamp())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RecordingOwner(Base):
    """The principal (``token:<id>``, ``user:<name>``, ``sso:<name>``) that uploaded a recording."""

    __tablename__ = "recording_owners"
    # one principal's uploads, and every upload, newest first (storage/history.py)
    __table_args__ = (Index(None, "principal", "created_at", "recording_id"), Index(None, "created_at", "recording_id"))

    recording_id: Mapped[str] = mapped_column(Text, primary_key=True)
    principal: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.current_timestamp())
