"""``ecgstream worker``: one stream-processing worker (run several for more throughput)."""

from __future__ import annotations

import argparse

from ecgstream.config import load_settings

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--metrics-port", type=int, help="port of /metrics (default METRICS_PORT)")


def run(args: argparse.Namespace) -> int:
    from stream_processor.worker import run_worker

    settings = load_settings()
    if args.metrics_port is not None:
        settings = settings.with_overrides(metrics_port=args.metrics_port)
    run_worker(settings)
    return 0
