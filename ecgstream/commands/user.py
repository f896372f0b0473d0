"""``ecgstream user``: people who sign in on the gateway's page (create / password / disable / list).

    ecgstream user create alice [--scope recordings:write recordings:read] [--password-stdin]
    ecgstream user password alice [--password-stdin]     (also re-enables and unlocks)
    ecgstream user disable alice                          (ends the user's sessions)
    ecgstream user list

The password is asked twice on the terminal (or read from one line of stdin) and stored as scrypt.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from webapp.auth import RECORDINGS_READ, RECORDINGS_WRITE, SCOPES

__all__ = ["add_arguments", "run", "MIN_PASSWORD_CHARS", "admin_login"]

MIN_PASSWORD_CHARS = 12


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True
    create = sub.add_parser("create", help="create a user")
    create.add_argument("username")
    create.add_argument("--scope", nargs="+", choices=SCOPES, default=[RECORDINGS_WRITE, RECORDINGS_READ],
                        help="scopes (default: recordings:write recordings:read)")  # fmt: skip
    create.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    password = sub.add_parser("password", help="set a new password (re-enables and unlocks)")
    password.add_argument("username")
    password.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    disable = sub.add_parser("disable", help="disable a user and end their sessions")
    disable.add_argument("username")
    sub.add_parser("list", help="list users")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise ValueError("the two passwords differ")
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"the password must have at least {MIN_PASSWORD_CHARS} characters")
    return password


async def admin_login(database_url: str, username: str, password: str) -> None:
    """Create ``username`` with the admin scope, or reset its password (``ecgstream up``'s login)."""
    from storage import create_engine
    from storage.principals import create_user, set_password

    engine = create_engine(database_url)
    try:
        if not await set_password(engine, username, password, ["admin"]):
            await create_user(engine, username, password, ["admin"])
    finally:
        await engine.dispose()


async def _run(args: argparse.Namespace, database_url: str) -> int:
    from storage import create_engine
    from storage.principals import create_user, disable_user, list_users, set_password

    engine = create_engine(database_url)
    try:
        if args.action == "create":
            await create_user(engine, args.username, _password(args.password_stdin), args.scope)
            print(f"user {args.username} created (scopes {' '.join(sorted(set(args.scope)))})")
        elif args.action == "password":
            if not await set_password(engine, args.username, _password(args.password_stdin)):
                print(f"ecgstream user: no user {args.username}", file=sys.stderr)
                return 1
            print(f"password of {args.username} changed; the user is enabled and unlocked")
        elif args.action == "disable":
            if not await disable_user(engine, args.username):
                print(f"ecgstream user: no user {args.username}", file=sys.stderr)
                return 1
            print(f"user {args.username} disabled; their sessions ended")
        else:
            for user in await list_users(engine):
                state = "disabled" if user.disabled else "enabled"
                print(f"{user.username:<24} {state:<9} {' '.join(sorted(user.scopes))}")
        return 0
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
    except ValueError as exc:
        print(f"ecgstream user: {exc}", file=sys.stderr)
        return 2
    except (DatabaseUnavailable, StorageError) as exc:
        print(f"ecgstream user: {exc} (does the user exist already?); database: {describe_database(settings)}",
              file=sys.stderr)  # fmt: skip
        return 1
    print(f"database: {describe_database(settings)}", file=sys.stderr)
    return code
