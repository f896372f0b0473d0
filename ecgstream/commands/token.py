"""``ecgstream token``: API tokens for devices and integrations (create / list / revoke).

    ecgstream token create --name cart-7 --scope recordings:write [--expires 90d]
    ecgstream token list
    ecgstream token revoke TOKEN_ID

The token is printed once, on creation; the database keeps only the SHA-256 of its secret part.
Scopes: recordings:write (upload), recordings:read (read own uploads), results:read:all, admin.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from datetime import UTC, datetime, timedelta

from webapp.auth import SCOPES

__all__ = ["add_arguments", "run", "parse_expiry"]

_DURATION = re.compile(r"^(\d+)([dhm])$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_expiry(text: str, now: datetime | None = None) -> datetime:
    """``90d`` / ``12h`` / ``30m`` from now, or an ISO date/time (UTC unless it says otherwise)."""
    now = now or datetime.now(UTC)
    match = _DURATION.match(text.strip())
    if match:
        return now + timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"--expires takes 90d, 12h, 30m or an ISO date, not {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True
    create = sub.add_parser("create", help="create a token and print it once")
    create.add_argument("--name", required=True, help="what holds the token, e.g. cart-7 or ris-integration")
    create.add_argument("--scope", required=True, nargs="+", choices=SCOPES, help="one or more scopes")
    create.add_argument("--expires", type=parse_expiry, help="90d, 12h, 30m or an ISO date (default: never)")
    sub.add_parser("list", help="list tokens (never their secrets)")
    revoke = sub.add_parser("revoke", help="revoke a token by its id")
    revoke.add_argument("token_id")


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


async def _run(args: argparse.Namespace, database_url: str) -> int:
    from storage import create_engine
    from storage.principals import create_token, list_tokens, revoke_token

    engine = create_engine(database_url)
    try:
        if args.action == "create":
            info, token = await create_token(engine, args.name, args.scope, args.expires)
            print(f"token {info.token_id} ({info.name}; scopes {' '.join(sorted(info.scopes))}; "
                  f"expires {_when(info.expires_at)})")  # fmt: skip
            print("copy it now, it is not shown again:")
            print(token)
            return 0
        if args.action == "list":
            print(f"{'id':<13} {'name':<24} {'scopes':<40} {'expires':<21} revoked")
            for item in await list_tokens(engine):
                scopes = " ".join(sorted(item.scopes))
                print(f"{item.token_id:<13} {item.name[:24]:<24} {scopes:<40} {_when(item.expires_at):<21} "
                      f"{_when(item.revoked_at)}")  # fmt: skip
            return 0
        if await revoke_token(engine, args.token_id):
            print(f"token {args.token_id} revoked")
            return 0
        print(f"ecgstream token: no active token {args.token_id}", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()


def run(args: argparse.Namespace) -> int:
    from core.config import load_settings
    from ecgstream.database_choice import describe_database, existing_database_url
    from storage import DatabaseUnavailable, StorageError

    settings = load_settings()
    url = existing_database_url(settings)  # never creates a second, empty database (ConfigError: exit 2)
    try:
        code = asyncio.run(_run(args, url))
    except (DatabaseUnavailable, StorageError) as exc:
        print(f"ecgstream token: {exc}; database: {describe_database(settings)} (is it the one `ecgstream up` "
              "uses, and migrated with `ecgstream db upgrade` under the same settings?)", file=sys.stderr)  # fmt: skip
        return 1
    print(f"database: {describe_database(settings)}", file=sys.stderr)
    return code
