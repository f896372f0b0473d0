"""Credentials as the database keeps them: token and session secrets hashed, passwords scrypt-hashed.

An API token is ``ecgs_<token_id>_<secret>``: ``token_id`` (12 hex characters) finds the row, the
secret (256 random bits, URL-safe base64) is compared by its SHA-256 in constant time. A fast hash is
right for 256-bit random secrets (nothing to guess); passwords, chosen by people, get scrypt.
Pure functions: no IO, no database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from functools import cache

__all__ = [
    "TOKEN_PREFIX",
    "new_token",
    "parse_token",
    "sha256_hex",
    "secret_matches",
    "new_session_secret",
    "hash_password",
    "verify_password",
    "dummy_password_hash",
]

TOKEN_PREFIX = "ecgs"
_TOKEN = re.compile(r"^ecgs_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
# scrypt: N=2^15, r=8 (32 MiB, ~0.1 s); the parameters travel in the hash so they can be raised later
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
_SCRYPT_MAXMEM = 256 * 1024 * 1024


def sha256_hex(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_token() -> tuple[str, str, str]:
    """(token_id, secret, the whole token): a 48-bit public id and a 256-bit secret."""
    token_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    return token_id, secret, f"{TOKEN_PREFIX}_{token_id}_{secret}"


def parse_token(token: str) -> tuple[str, str] | None:
    """(token_id, secret) of a well-formed token, else None."""
    match = _TOKEN.match(token)
    return None if match is None else (match.group(1), match.group(2))


def secret_matches(secret: str, stored_sha256: str) -> bool:
    """Constant-time comparison of ``secret``'s SHA-256 with the stored hex digest."""
    return hmac.compare_digest(sha256_hex(secret), stored_sha256)


def new_session_secret() -> str:
    return secrets.token_urlsafe(32)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$salt$hash`` (base64), with a fresh 16-byte salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, maxmem=_SCRYPT_MAXMEM, dklen=32
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    """True when ``password`` matches ``encoded`` (constant-time); False for any malformed hash."""
    try:
        scheme, n, r, p, salt, expected = encoded.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(
            password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
            maxmem=_SCRYPT_MAXMEM, dklen=32,
        )  # fmt: skip
    except ValueError:
        return False
    return hmac.compare_digest(digest, base64.b64decode(expected))


@cache
def dummy_password_hash() -> str:
    """A hash to verify against for unknown users, so they cost the same time as real ones."""
    return hash_password(secrets.token_urlsafe(16))
