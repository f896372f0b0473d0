"""Interleaved A/B of worker configurations on a busy machine: drain + burst, round after round.

    .venv/bin/python -m benchmarks.harness.interleave --records 600 --rounds 3 \\
        --config default --config one-thread:ANALYSIS_PROCESSES=0 \\
        --config base@/tmp/base-tree

Each ``--config NAME[@TREE][:SETTING=VALUE,...]`` is a worker configuration: settings as in
``--worker-setting`` of the harness, and optionally a source TREE (for example
``git archive <commit> | tar -x -C /tmp/base-tree``) whose code the workers run instead of this
checkout's. Every round runs every configuration once, in order, on one Tansu broker and one Postgres
database (dropped and recreated): a drain of ``--records`` and then a burst of as many. Medians over
the rounds are printed, with the worker's CPU ms per record, which holds up better than rates when
other processes share the cores.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.harness.drain import measure_drain
from benchmarks.harness.end_to_end import measure_end_to_end
from benchmarks.harness.environment import BenchDatabase, BenchRun
from benchmarks.harness.runner import BENCH_PATIENT_SECRET, REPO, tuning_settings
from benchmarks.harness.workload import build_workload
from core.config import ENV_FIELDS, Settings
from core.logs import configure_logging
from ecgstream.embedded import TansuBroker

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench"


@dataclass
class Config:
    name: str
    tree: Path | None = None
    settings: dict[str, str] = field(default_factory=dict)
    figures: list[dict[str, float]] = field(default_factory=list)

    @classmethod
    def parse(cls, text: str) -> Config:
        head, _, settings = text.partition(":")
        name, _, tree = head.partition("@")
        pairs = dict(pair.split("=", 1) for pair in settings.split(",") if pair)
        tuning_settings(pairs)  # raises ValueError for a setting the harness does not vary
        return cls(name, Path(tree).resolve() if tree else None, pairs)

    def overrides(self) -> dict[str, Any]:
        tuned = tuning_settings(self.settings)
        return {ENV_FIELDS[name]: getattr(tuned, ENV_FIELDS[name]) for name in self.settings}


@contextmanager
def _workers_from(tree: Path | None) -> Iterator[None]:
    """Workers started inside run ``tree``'s code (``python -m`` puts the working folder first)."""
    if tree is None:
        yield
        return
    here, before = os.getcwd(), os.environ.get("PYTHONPATH")
    os.chdir(tree)
    os.environ["PYTHONPATH"] = str(tree)
    try:
        yield
    finally:
        os.chdir(here)
        if before is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = before


async def run(configs: list[Config], records: int, rounds: int, postgres_url: str, data: Path | None) -> None:
    workload = build_workload(data, 16)
    with tempfile.TemporaryDirectory(prefix="ecgstream-interleave-") as tmp:
        home = Path(tmp)
        database = BenchDatabase.postgres(postgres_url)
        with TansuBroker(log_path=home / "tansu.log") as broker:
            await database.prepare()
            bench = BenchRun(Settings(kafka_bootstrap=broker.bootstrap, database_url=database.url, home=home,
                                      patient_hmac_secret=BENCH_PATIENT_SECRET), database, home)  # fmt: skip
            try:
                for round_ in range(rounds):
                    for config in configs:
                        with _workers_from(config.tree):
                            async with bench.phase(f"{config.name}-{round_}", **config.overrides()) as phase:
                                drain = await measure_drain(phase, workload, records)
                                burst = await measure_end_to_end(phase, workload, records, already_stored=records)
                        figures = {
                            "drain": drain["records_per_s"],
                            "burst": burst["sustained_records_per_s"],
                            "first_to_last": burst["records_per_s"],
                            "cpu_ms": drain["stages"].get("worker_cpu_ms", float("nan")),
                            "load": os.getloadavg()[0],
                        }
                        config.figures.append(figures)
                        print(f"round {round_} {config.name:<16} " + "  ".join(f"{k} {v:.1f}" for k, v in figures.items()),
                              flush=True)  # fmt: skip
            finally:
                await database.close()
    print(f"\n{'configuration':<16}{'drain':>10}{'burst 10-90%':>14}{'first->last':>13}{'CPU ms/rec':>12}  (medians)")
    for config in configs:
        median = {k: statistics.median(f[k] for f in config.figures) for k in ("drain", "burst", "first_to_last", "cpu_ms")}
        print(f"{config.name:<16}{median['drain']:>10.1f}{median['burst']:>14.1f}{median['first_to_last']:>13.1f}"
              f"{median['cpu_ms']:>12.2f}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.harness.interleave", description=__doc__)
    parser.add_argument("--config", action="append", required=True, metavar="NAME[@TREE][:SETTING=VALUE,...]")
    parser.add_argument("--records", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_POSTGRES_URL),
                        help="database that is DROPPED and recreated (default %(default)s)")  # fmt: skip
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    args = parser.parse_args(argv)
    configure_logging("WARNING")
    logging.getLogger("benchmarks").setLevel("WARNING")
    try:
        configs = [Config.parse(text) for text in args.config]
    except ValueError as exc:
        parser.error(str(exc))
    asyncio.run(run(configs, args.records, args.rounds, args.postgres_url, args.data if args.data.is_dir() else None))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
