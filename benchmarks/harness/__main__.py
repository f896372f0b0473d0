"""``python -m benchmarks.harness``: run the benchmark, print the table, write the JSON."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from benchmarks.harness.report import render_profiles, render_table, write_json
from benchmarks.harness.runner import REPO, TUNING_SETTINGS, run_benchmark, tuning_settings
from core.logs import configure_logging

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.harness", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="small sizes: a smoke test, not figures to quote"
    )
    parser.add_argument(
        "--databases", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"]
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_POSTGRES_URL),
        help="database the harness DROPS and recreates (default %(default)s; env BENCH_DATABASE_URL)",
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=REPO.parent / "shared" / "data",
        help="folder with cinc2021/ and ludb/ for real templates (synthetic ones fill up)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        metavar="DIR",
        help="attach py-spy to the worker during drain and end to end; flame graphs into DIR",
    )
    parser.add_argument(
        "--backlog",
        type=int,
        default=None,
        metavar="N",
        help="records per drain / end-to-end / 2-worker burst (default 2000, --quick 200)",
    )
    parser.add_argument(
        "--latency-seconds",
        type=float,
        default=None,
        metavar="S",
        help="duration of the paced producer (default 60, --quick 8)",
    )
    parser.add_argument(
        "--more-workers",
        type=int,
        nargs="*",
        default=[],
        metavar="N",
        help="also time bursts with N workers (e.g. 4 8 on a machine with more cores)",
    )
    parser.add_argument(
        "--worker-setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help=f"a worker setting for this run (repeatable; one of {', '.join(TUNING_SETTINGS)}), e.g. ANALYSIS_PROCESSES=0",
    )
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks" / "results" / "latest.json")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    worker_settings = dict(pair.split("=", 1) for pair in args.worker_setting if "=" in pair)
    if len(worker_settings) != len(args.worker_setting):
        parser.error("--worker-setting takes NAME=VALUE")
    try:
        tuning_settings(worker_settings)
    except ValueError as exc:
        parser.error(str(exc))
    configure_logging(args.log_level)
    logging.getLogger("benchmarks").setLevel(args.log_level)
    result = asyncio.run(run_benchmark(
        quick=args.quick, backlog=args.backlog, latency_seconds=args.latency_seconds,
        more_workers=args.more_workers, databases=args.databases, postgres_url=args.postgres_url,
        data_dir=args.data if args.data.is_dir() else None,
        profile_dir=args.profile.resolve() if args.profile else None, worker_settings=worker_settings,
    ))  # fmt: skip
    write_json(result, args.output)
    print(render_table(result))
    if args.profile:
        print(render_profiles(result))
    print(f"\nwritten: {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
