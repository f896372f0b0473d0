"""``ecgstream overread``: physician-confirmed statements for the next training run.

    ecgstream overread export --out DIR [--since YYYY-MM-DD] [--url URL]

writes the recordings whose latest overread is a confirm or an edit as an SPH-layout data set
(``records/<id>.h5``, ``metadata.csv``, ``code.csv``; see ``ecgstream.overread_dataset``), which
``ecgstream train --data DIR`` and ``model.training.data.read_sph_dataset`` read. ``--since`` keeps the
overreads stored from that UTC day on. The database is ``--url``, else ``DATABASE_URL``, else the
embedded SQLite file. Exit 0 when done, 1 when the folder already holds a data set, 2 when the
database cannot be reached.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, date, datetime
from pathlib import Path

__all__ = ["add_arguments", "run"]


def _day(text: str) -> datetime:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="overread_action", metavar="ACTION")
    actions.required = True
    export = actions.add_parser("export", help="confirmed statements as an SPH-layout labelled data set")
    export.add_argument("--out", required=True, type=Path, help="folder to write (created; must hold no data set)")
    export.add_argument("--since", type=_day, help="only overreads stored from this UTC day on (YYYY-MM-DD)")
    export.add_argument("--url", help="SQLAlchemy database URL (default: DATABASE_URL or the embedded SQLite)")


async def _export(url: str, out: Path, since: datetime | None) -> int:
    from ecgstream.overread_dataset import export_confirmed
    from storage import create_engine

    engine = create_engine(url)
    try:
        summary = await export_confirmed(engine, out, since=since)
    finally:
        await engine.dispose()
    skipped = ", ".join(f"{count} {reason.replace('_', ' ')}" for reason, count in sorted(summary.skipped.items()))
    print(f"wrote {len(summary.written)} confirmed recordings to {out}" + (f" (left out: {skipped})" if skipped else ""))
    return 0


def run(args: argparse.Namespace) -> int:
    from core.config import load_settings
    from storage.errors import DatabaseUnavailable

    url = args.url or load_settings().effective_database_url
    try:
        return asyncio.run(_export(url, args.out, args.since))
    except FileExistsError as exc:
        print(f"ecgstream overread export: {exc}", file=sys.stderr)
        return 1
    except DatabaseUnavailable as exc:
        print(f"ecgstream overread export: cannot reach the database: {exc}", file=sys.stderr)
        return 2
