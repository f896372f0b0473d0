"""``ecgstream up``: broker (embedded Tansu unless KAFKA_BOOTSTRAP), database, workers, the web
gateway and, when FHIR_BASE_URL or HL7_MLLP_HOST is set, the exporter (``ecgstream export``), running
until Ctrl-C or SIGTERM; each a child process restarted with backoff when it dies. Other commands (``ecgstream publish``) find this stack's
broker through ``$ECGSTREAM_HOME/stack.json``.

The gateway's port (``--port``, else GATEWAY_PORT, 8080) is checked before anything starts: when
another program holds it, ``up`` says so and exits 2 at once. The URL and the admin password are
printed only once the gateway itself answers on ``/healthz``.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from types import FrameType

from sqlalchemy.engine import make_url

from core.config import load_settings
from core.kafka_security import KafkaSecurity
from core.secret_check import is_development_stack, require_patient_secret
from core.stack_info import StackInfo, write_stack_info
from ecgstream.stack import ChildProcess, LocalStack, export_destinations

__all__ = ["add_arguments", "run"]

SUPERVISE_INTERVAL_S = 0.25


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--no-gateway", action="store_true", help="do not start the web upload gateway")
    parser.add_argument("--port", type=int, default=None, help="port of the web upload gateway (default: GATEWAY_PORT, 8080)")


def _development_login(stack: LocalStack) -> str:
    """A fresh random password for the ``admin`` login of a development stack, printed once."""
    import asyncio
    import secrets

    from ecgstream.commands.user import admin_login

    password = secrets.token_urlsafe(15)
    asyncio.run(admin_login(stack.database_url, "admin", password))
    return password


def _gateway_answers(url: str, gateway: ChildProcess, timeout: float) -> str | None:
    """None once ``url``/healthz answers as an ecgstream gateway; else why not (it exited, or timed out)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not gateway.running:
            return f"the web gateway exited (code {gateway.exit_code}); see {gateway.log_path}"
        try:
            with urllib.request.urlopen(url + "healthz", timeout=2) as answer:
                body = json.loads(answer.read())
        except urllib.error.HTTPError as error:  # 503: up, but its database is not (yet)
            body = json.loads(error.read() or b"{}") if error.code == 503 else {}
        except (OSError, ValueError):
            body = {}
        if isinstance(body, dict) and "database" in body:
            return None
        time.sleep(0.2)
    return f"the web gateway did not answer on {url} within {timeout:.0f} s; see {gateway.log_path}"


def _port_taken(host: str, port: int) -> str | None:
    from webapp.server import PortInUse, bind_gateway_socket

    try:
        bind_gateway_socket(host, port).close()
    except PortInUse as exc:
        return str(exc)
    return None


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    if args.port is not None:
        settings = settings.with_overrides(gateway_port=args.port)
    require_patient_secret(settings)  # configuration mistakes: one line, exit 2 (ecgstream.cli)
    KafkaSecurity.from_settings(settings)
    if not args.no_gateway and (taken := _port_taken(settings.gateway_host, settings.gateway_port)):
        print(f"ecgstream up: the web gateway cannot listen on {taken}", file=sys.stderr)
        return 2
    stopping = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    info_path = settings.home / "stack.json"
    with LocalStack(settings, workers=args.workers) as stack:
        try:
            gateway_url = None if args.no_gateway else f"http://{settings.gateway_host}:{settings.gateway_port}/"
            if gateway_url is not None:
                failure = _gateway_answers(gateway_url, stack.start_gateway(), timeout=90)
                if failure is not None:
                    print(f"ecgstream up: {failure}", file=sys.stderr)
                    return 1
            destinations = export_destinations(settings)
            exporter = stack.start_exporter() if destinations else None
            write_stack_info(
                settings,
                StackInfo(stack.bootstrap, stack.database_url, gateway_url, stack.workers[0].metrics_url),
            )
            print(f"ecgstream is up: broker {stack.bootstrap}, database {make_url(stack.database_url).render_as_string(hide_password=True)}")
            for worker in stack.workers:
                print(f"  {worker.name}: metrics {worker.metrics_url} (log {worker.log_path})")
            if gateway_url:
                print(f"  web upload gateway: {gateway_url}")
                if is_development_stack(settings):
                    password = _development_login(stack)
                    print(f"  sign in as admin / {password} (a new password every `ecgstream up`; shown once)")
                else:
                    print("  sign in with a user from `ecgstream user create`; devices use `ecgstream token create`")
            if exporter is not None:
                print(f"  exporter: to {', '.join(destinations)}: metrics {exporter.metrics_url} (log {exporter.log_path})")
            else:
                print("  exporter: not started (no FHIR_BASE_URL or HL7_MLLP_HOST configured)")
            print("  publish files with `ecgstream publish PATH...`; stop with Ctrl-C")
            print("  crashed workers, the gateway and the exporter are restarted (backoff; see the logs for the restart count)")
            while not stopping.wait(SUPERVISE_INTERVAL_S):
                failure = stack.supervise()
                if failure is not None:
                    print(f"stopping: {failure} (see its log in {stack.log_dir})", file=sys.stderr)
                    return 1
        finally:
            info_path.unlink(missing_ok=True)
    print("ecgstream stopped")
    return 0
