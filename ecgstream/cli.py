"""The ``ecgstream`` console command: a thin dispatcher over subcommand modules.

Each subcommand lives in its own module exposing ``add_arguments(parser)`` and ``run(args) -> int``;
modules are imported only when their command runs, so ``ecgstream --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

__all__ = ["main", "COMMANDS"]

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("ecgstream.commands.demo", "run the whole pipeline on generated sample data, print diagnoses, exit"),
    "up": ("ecgstream.commands.up", "run broker (embedded unless KAFKA_BOOTSTRAP), worker and gateway until Ctrl-C"),
    "worker": ("ecgstream.commands.worker", "run the stream-processing worker against KAFKA_BOOTSTRAP"),
    "publish": ("ecgstream.commands.publish", "publish ECG files, folders or an SPH data set to the recordings topic"),
    "gateway": ("ecgstream.commands.gateway", "run the web upload gateway"),
    "train": ("ecgstream.commands.train", "train the CAE + multi-label classifier on an SPH-layout data set"),
    "crossval": ("ecgstream.commands.crossval", "patient-grouped k-fold cross-validation of a training recipe (OOF scores)"),
    "evaluate": ("ecgstream.commands.evaluate", "evaluate a checkpoint on the held-out split of an SPH-layout data set"),
    "diagnose": ("ecgstream.commands.diagnose", "diagnose ECG files locally (no broker, no database)"),
    "export": ("ecgstream.commands.export", "publish diagnoses as FHIR Bundles; POST them to FHIR_BASE_URL, HL7 v2 over MLLP"),
    "replay": ("ecgstream.commands.replay", "replay stored recordings through another model version; agreement report"),
    "inspect": ("ecgstream.commands.inspect", "print measurements, signal quality and rule statements of ECG files"),
    "generate": ("ecgstream.commands.generate", "write a small synthetic data set in the SPH layout"),
    "db": ("ecgstream.commands.db", "database maintenance (db upgrade applies migrations)"),
    "token": ("ecgstream.commands.token", "API tokens for devices and integrations: create, list, revoke"),
    "user": ("ecgstream.commands.user", "people who sign in on the gateway page: create, password, disable, list"),
    "overread": ("ecgstream.commands.overread", "physician-confirmed statements as an SPH-layout labelled data set"),
}


# Interactive one-shot commands print their own results: only warnings and errors are logged unless
# LOG_LEVEL is set. Services (worker, gateway, up) log at LOG_LEVEL (default INFO).
QUIET_COMMANDS = frozenset({"demo", "diagnose", "publish", "generate", "inspect", "token", "user", "overread"})


def build_parser(selected: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ecgstream", description="Streaming 12-lead ECG diagnosis.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (module_name, help_text) in COMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        if name == selected:
            importlib.import_module(module_name).add_arguments(command_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    selected = next((a for a in args_list if not a.startswith("-")), None)
    parser = build_parser(selected if selected in COMMANDS else None)
    args = parser.parse_args(args_list)
    module = importlib.import_module(COMMANDS[args.command][0])
    from core.config import ConfigError, load_settings
    from core.logs import configure_logging

    quiet = args.command in QUIET_COMMANDS and "LOG_LEVEL" not in os.environ
    try:
        configure_logging("WARNING" if quiet else load_settings().log_level)
        return int(module.run(args) or 0)
    except ConfigError as exc:  # a setting that cannot work: one line naming the variable, no traceback
        print(f"ecgstream {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
