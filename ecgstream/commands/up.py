"""``ecgstream up``: broker (embedded Tansu unless KAFKA_BOOTSTRAP), database, workers and the web
gateway, running until Ctrl-C or SIGTERM. Other commands (``ecgstream publish``) find this stack's
broker through ``$ECGSTREAM_HOME/stack.json``.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from sqlalchemy.engine import make_url

from ecgstream.config import load_settings
from ecgstream.embedded import wait_for_port
from ecgstream.secret_check import InsecureConfiguration, is_development_stack, require_patient_secret
from ecgstream.stack import LocalStack
from ecgstream.stack_info import StackInfo, write_stack_info

__all__ = ["add_arguments", "run"]

SUPERVISE_INTERVAL_S = 0.25


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--no-gateway", action="store_true", help="do not start the web upload gateway")


def _development_login(stack: LocalStack) -> str:
    """A fresh random password for the ``admin`` login of a development stack, printed once."""
    import asyncio
    import secrets

    from ecgstream.commands.user import admin_login

    password = secrets.token_urlsafe(15)
    asyncio.run(admin_login(stack.database_url, "admin", password))
    return password


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    try:
        require_patient_secret(settings)
    except InsecureConfiguration as exc:
        print(f"ecgstream up: {exc}", file=sys.stderr)
        return 2
    stopping = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    info_path = settings.home / "stack.json"
    with LocalStack(settings, workers=args.workers) as stack:
        try:
            if not args.no_gateway:
                stack.start_gateway()
                wait_for_port(settings.gateway_host, settings.gateway_port, timeout=60)
            gateway_url = None if args.no_gateway else f"http://{settings.gateway_host}:{settings.gateway_port}/"
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
            print("  publish files with `ecgstream publish PATH...`; stop with Ctrl-C")
            print("  crashed workers and the gateway are restarted (backoff; see the logs for the restart count)")
            while not stopping.wait(SUPERVISE_INTERVAL_S):
                failure = stack.supervise()
                if failure is not None:
                    print(f"stopping: {failure} (see its log in {stack.log_dir})", file=sys.stderr)
                    return 1
        finally:
            info_path.unlink(missing_ok=True)
    print("ecgstream stopped")
    return 0
