"""``ecgstream up``: broker (embedded Tansu unless KAFKA_BOOTSTRAP), database, workers and the web
gateway, running until Ctrl-C or SIGTERM. Other commands (``ecgstream publish``) find this stack's
broker through ``$ECGSTREAM_HOME/stack.json``.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import threading
from types import FrameType

from ecgstream.config import load_settings
from ecgstream.embedded import wait_for_port
from ecgstream.secret_check import InsecureConfiguration, is_development_stack, require_patient_secret
from ecgstream.stack import LocalStack
from ecgstream.stack_info import StackInfo, write_stack_info

__all__ = ["add_arguments", "run"]


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
    gateway: subprocess.Popen[bytes] | None = None
    info_path = settings.home / "stack.json"
    with LocalStack(settings, workers=args.workers) as stack:
        try:
            if not args.no_gateway:
                log = open(stack.log_dir / "gateway.log", "ab")  # noqa: SIM115 - owned by the child
                gateway = subprocess.Popen(
                    [sys.executable, "-m", "ecgstream.cli", "gateway"], env=stack.child_env(), stdout=log, stderr=log
                )
                log.close()
                wait_for_port(settings.gateway_host, settings.gateway_port, timeout=60)
            gateway_url = None if gateway is None else f"http://{settings.gateway_host}:{settings.gateway_port}/"
            write_stack_info(
                settings,
                StackInfo(stack.bootstrap, stack.database_url, gateway_url, stack.workers[0].metrics_url),
            )
            print(f"ecgstream is up: broker {stack.bootstrap}, database {stack.database_url}")
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
            while not stopping.wait(1.0):
                if any(not worker.running for worker in stack.workers):
                    print("a worker process exited; stopping (see its log)", file=sys.stderr)
                    return 1
        finally:
            if gateway is not None and gateway.poll() is None:
                gateway.terminate()
                gateway.wait(15)
            info_path.unlink(missing_ok=True)
    print("ecgstream stopped")
    return 0
