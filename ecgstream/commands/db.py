"""``ecgstream db``: apply and inspect database migrations.

    ecgstream db upgrade [REVISION]     apply migrations up to REVISION (default: head)
    ecgstream db current                print the database's revision and the code's head
    ecgstream db downgrade REVISION     go back to REVISION (``base`` drops every table)

The database is ``--url URL`` (after the action), else ``DATABASE_URL``, else the embedded SQLite
file under ECGSTREAM_HOME.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--url", help="SQLAlchemy database URL (default: DATABASE_URL or the embedded SQLite)"
    )
    actions = parser.add_subparsers(dest="db_action", metavar="ACTION")
    actions.required = True
    upgrade = actions.add_parser("upgrade", parents=[common], help="apply migrations (default: up to head)")
    upgrade.add_argument("revision", nargs="?", default="head")
    actions.add_parser("current", parents=[common], help="print the current and the head revision")
    downgrade = actions.add_parser("downgrade", parents=[common], help="revert migrations down to REVISION")
    downgrade.add_argument("revision")


def run(args: argparse.Namespace) -> int:
    from sqlalchemy.engine import make_url

    from core.config import load_settings
    from storage import migrate
    from storage.errors import DatabaseUnavailable, StorageError

    url = args.url or load_settings().effective_database_url
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        if args.db_action == "upgrade":
            migrate.upgrade(url, args.revision)
            print(f"{shown}: upgraded to {migrate.current_revision(url)}")
        elif args.db_action == "downgrade":
            migrate.downgrade(url, args.revision)
            print(f"{shown}: downgraded to {migrate.current_revision(url) or 'base'}")
        else:
            current = migrate.current_revision(url)
            head = migrate.head_revision()
            state = "up to date" if current == head else "needs `ecgstream db upgrade`"
            print(f"{shown}: current {current or 'none (empty database)'}, head {head} ({state})")
    except DatabaseUnavailable as exc:
        print(f"ecgstream db: cannot reach {shown}: {exc.__cause__ or exc}", file=sys.stderr)
        return 2
    except StorageError as exc:
        print(f"ecgstream db: {exc}", file=sys.stderr)
        return 1
    return 0
