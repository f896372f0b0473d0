"""``ecgstream gateway``: the web upload gateway (page + JSON API) on GATEWAY_HOST:GATEWAY_PORT.

Publishes to KAFKA_BOOTSTRAP (or the broker of a running ``ecgstream up``) and reads diagnoses from
DATABASE_URL. Exit code 2 when no broker is configured, when the port is taken, or when a setting
cannot work (PATIENT_HMAC_SECRET unset or weak outside the embedded stack, TLS/SASL files...).
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=None, help="listen address (default: GATEWAY_HOST, 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="listen port (default: GATEWAY_PORT, 8080)")


def run(args: argparse.Namespace) -> int:
    from core.config import load_settings
    from core.kafka_security import KafkaSecurity
    from core.stack_info import NoBrokerConfigured
    from webapp import run_gateway
    from webapp.server import PortInUse

    settings = load_settings()
    overrides: dict[str, object] = {}
    if args.host:
        overrides["gateway_host"] = args.host
    if args.port is not None:
        overrides["gateway_port"] = args.port
    KafkaSecurity.from_settings(settings)  # a TLS/SASL mistake stops here (ConfigError: one line, exit 2)
    try:
        run_gateway(settings.with_overrides(**overrides))
    except (NoBrokerConfigured, PortInUse) as exc:
        print(f"ecgstream gateway: {exc}", file=sys.stderr)
        return 2
    return 0
