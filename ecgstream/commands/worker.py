"""``ecgstream worker``: one stream-processing worker (run several for more throughput)."""

from __future__ import annotations

import argparse
import sys

from core.config import load_settings

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--metrics-port", type=int, help="port of /metrics (default METRICS_PORT)")
    parser.add_argument("--metrics-host", help="address of /metrics (default METRICS_HOST, 127.0.0.1)")


def run(args: argparse.Namespace) -> int:
    from core.kafka_admin import BrokerUnavailable
    from core.kafka_security import KafkaSecurity
    from core.secret_check import require_patient_secret

    settings = load_settings()
    if args.metrics_port is not None:
        settings = settings.with_overrides(metrics_port=args.metrics_port)
    if args.metrics_host:
        settings = settings.with_overrides(metrics_host=args.metrics_host)
    # configuration mistakes (ConfigError: the secret, TLS/SASL files) stop the command before torch and
    # faust are imported, within a second (ecgstream.cli prints the one line and exits 2)
    require_patient_secret(settings)
    KafkaSecurity.from_settings(settings)
    try:
        from stream_processor.worker import run_worker

        run_worker(settings)
    except BrokerUnavailable as exc:
        print(f"ecgstream worker: {exc}", file=sys.stderr)
        return 2
    return 0
