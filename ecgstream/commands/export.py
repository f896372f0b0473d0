"""``ecgstream export``: consume the diagnoses topic; publish each diagnosis as a FHIR Bundle and deliver it.

Every diagnosis becomes a FHIR R4 transaction Bundle on ``FHIR_TOPIC``; with ``FHIR_BASE_URL`` it is
also POSTed to that FHIR server, with ``HL7_MLLP_HOST`` an HL7 v2.5.1 ORU^R01 goes to that receiver
over MLLP (see ``stream_processor.export``). Runs until Ctrl-C / SIGTERM; serves ``/metrics`` on
``METRICS_HOST:EXPORT_METRICS_PORT``. Uses ``KAFKA_BOOTSTRAP`` or the running ``ecgstream up`` stack.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from typing import TYPE_CHECKING

from core.config import load_settings

if TYPE_CHECKING:
    from stream_processor.export.service import ExportService

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--metrics-port", type=int, help="port of /metrics (default EXPORT_METRICS_PORT)")


async def _serve(service: ExportService) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)  # uncommitted events are exported again on restart
    with contextlib.suppress(asyncio.CancelledError):
        await task


def run(args: argparse.Namespace) -> int:
    from prometheus_client import start_http_server

    from core.kafka_admin import BrokerUnavailable
    from core.kafka_security import KafkaSecurityError
    from core.stack_info import NoBrokerConfigured, resolve_bootstrap
    from stream_processor.export.metrics import ExportMetrics
    from stream_processor.export.service import ExportService

    settings = load_settings()
    port = settings.export_metrics_port if args.metrics_port is None else args.metrics_port
    try:
        bootstrap = resolve_bootstrap(settings)
        metrics = ExportMetrics.create()
        start_http_server(port, addr=settings.metrics_host, registry=metrics.registry)
        asyncio.run(_serve(ExportService(settings, bootstrap, metrics)))
    except (NoBrokerConfigured, BrokerUnavailable, KafkaSecurityError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
