"""The run's one table (stdout) and ``benchmarks/results/latest.json``: figures, ratios, conditions."""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.harness.memory import machine_memory_bytes

__all__ = [
    "machine_info",
    "commit_info",
    "ratios",
    "render_table",
    "render_profiles",
    "write_json",
    "RATIO_KEYS",
]

RATIO_KEYS = (
    "end_to_end_over_ceiling",
    "drain_over_ceiling",
    "batched_over_per_record",
    "p99_latency_half_load_s",
    "worker_peak_rss_bytes",
    "two_workers_over_one",
)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info() -> dict[str, Any]:
    """CPU model, cores, memory, and the load average (how busy the machine was)."""
    return {
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "memory_bytes": machine_memory_bytes(),
        "load_average_1m_5m_15m": list(os.getloadavg()),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def commit_info(repo: Path) -> dict[str, Any]:
    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=repo, capture_output=True, text=True, check=True
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    return {"commit": git("rev-parse", "HEAD"), "branch": git("rev-parse", "--abbrev-ref", "HEAD"),
            "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}  # fmt: skip


def _div(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0 or math.isnan(a) or math.isnan(b):
        return None
    return a / b


def ratios(ceiling: dict[str, Any], db: dict[str, Any]) -> dict[str, Any]:
    """The headline ratios of one database's figures against the compute ceiling.

    ``*_over_ceiling`` use the ceiling of the worker's whole analysis (``ceiling["records_per_s"]``);
    ``*_over_predict_ceiling`` the model alone (``Predictor.predict``), as before measurements existed.
    """
    ceil, predict = ceiling["records_per_s"], ceiling.get("predict_records_per_s")
    e2e, drain = db.get("end_to_end", {}), db.get("drain", {})
    per_record, two = db.get("per_record", {}), db.get("two_workers", {})
    rss = [db.get("worker_peak_rss_bytes", 0), *two.get("peak_rss_bytes", [])]
    return {
        "end_to_end_over_ceiling": _div(e2e.get("records_per_s"), ceil),
        "drain_over_ceiling": _div(drain.get("records_per_s"), ceil),
        "end_to_end_over_predict_ceiling": _div(e2e.get("records_per_s"), predict),
        "drain_over_predict_ceiling": _div(drain.get("records_per_s"), predict),
        "batched_over_per_record": _div(
            e2e.get("sustained_records_per_s"), per_record.get("sustained_records_per_s")
        ),
        "p99_latency_half_load_s": db.get("latency", {}).get("event", {}).get("p99_s"),
        "worker_peak_rss_bytes": max(rss) if rss else None,
        "two_workers_over_one": _div(two.get("sustained_records_per_s"), e2e.get("sustained_records_per_s")),
    }


def _fmt(value: Any, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "MB":
        return f"{value / 1e6:.0f} MB"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "s":
        return f"{value:.2f} s"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _ceiling_line(ceiling: dict[str, Any]) -> str:
    analysis = ceiling.get("analysis")
    if ceiling.get("basis") != "analysis" or not analysis:
        return f"compute ceiling (ratios): {ceiling['records_per_s']:.1f} rec/s, Predictor.predict alone"
    return (
        f"compute ceiling (ratios): {ceiling['records_per_s']:.1f} rec/s, the worker's whole analysis "
        f"(median {analysis['records_per_s_median']:.1f}; per record: quality+measurements+rules+fusion "
        f"{analysis['measurement_ms_per_record']:.2f} ms over {analysis['analysis_processes']} process(es) + "
        f"the thread, preprocess {analysis['preprocess_ms_per_record']:.2f} ms, model "
        f"{analysis['model_ms_per_record']:.2f} ms; {analysis['readable_records']} of {ceiling['batch_max']} readable)"
    )


def render_table(result: dict[str, Any]) -> str:
    """One table: a row per figure, a column per database."""
    dbs = list(result["databases"])
    ceiling = result["ceiling"]

    def row(label: str, getter: Any, unit: str = "") -> str:
        cells = []
        for name in dbs:
            try:
                cells.append(_fmt(getter(result["databases"][name]), unit))
            except (KeyError, TypeError, IndexError):
                cells.append("n/a")
        return f"{label:<44}" + "".join(f"{c:>16}" for c in cells)

    lines = [
        f"ecgstream benchmark ({result['mode']}) {result['date']} commit {result['commit']['commit'][:10]}"
        f"{' (dirty)' if result['commit']['dirty'] else ''}",
        f"machine: {result['machine']['cpu_model']}, {result['machine']['cpu_count']} cores, "
        f"{result['machine']['memory_bytes'] / 2**30:.0f} GiB; load avg at start "
        f"{result['load_average_at_start'][0]:.1f}, at end {result['machine']['load_average_1m_5m_15m'][0]:.1f}",
        f"settings: BATCH_MAX {ceiling['batch_max']}, BATCH_WAIT {result['settings']['batch_wait']} s, "
        f"TORCH_THREADS {ceiling['torch_threads']}, ANALYSIS_PROCESSES {result['settings'].get('analysis_processes')}, "
        f"MEASUREMENTS {result['settings'].get('measurements')}, {result['settings']['partitions']} partitions, "
        "Tansu broker",
        _ceiling_line(ceiling),
        f"predict-only ceiling: {ceiling['predict_records_per_s']:.1f} rec/s (per record: preprocess "
        f"{ceiling['preprocess_ms_per_record']:.2f} ms, model "
        f"{ceiling['model_ms_per_record']:.2f} ms; event loop: decode {ceiling['decode_ms_per_record']:.2f} ms, "
        f"validate {ceiling['validate_ms_per_record']:.2f} ms, signal hash {ceiling['signal_hash_ms_per_record']:.2f} ms; measure "
        f"{_fmt(ceiling['measure_ms_per_record'])} ms, quality {_fmt(ceiling['quality_ms_per_record'])} ms)",
        "",
        f"{'figure':<44}" + "".join(f"{name:>16}" for name in dbs),
        row("drain rec/s (10-90 %)", lambda d: d["drain"]["records_per_s"]),
        row("end to end rec/s (first publish->last row)", lambda d: d["end_to_end"]["records_per_s"]),
        row("  sustained rec/s (10-90 %)", lambda d: d["end_to_end"]["sustained_records_per_s"]),
        row("per record (BATCH_MAX=1) sustained rec/s", lambda d: d["per_record"]["sustained_records_per_s"]),
        row("2 workers sustained rec/s", lambda d: d["two_workers"]["sustained_records_per_s"]),
        *[
            row(f"{n} workers sustained rec/s", lambda d, n=n: d[f"workers_{n}"]["sustained_records_per_s"])
            for n in sorted(
                {
                    int(k.split("_")[1])
                    for db in result["databases"].values()
                    for k in db
                    if k.startswith("workers_")
                }
            )
        ],
        row("latency offered rec/s", lambda d: d["latency"]["offered_records_per_s"]),
        row(
            "latency p50 / p95 (s)",
            lambda d: f"{d['latency']['event']['p50_s']:.2f} / {d['latency']['event']['p95_s']:.2f}",
        ),
        row(
            "latency p99 / max (s)",
            lambda d: f"{d['latency']['event']['p99_s']:.2f} / {d['latency']['event']['max_s']:.2f}",
        ),
        row(
            "drain ms/rec: measure / preprocess+model / db",
            lambda d: "{:.2f}/{:.2f}/{:.2f}".format(
                d["drain"]["stages"].get("measurement_ms", float("nan")),
                d["drain"]["stages"]["preprocess_ms"] + d["drain"]["stages"]["model_ms"],
                d["drain"]["stages"]["db_write_ms"],
            ),
        ),
        row("drain worker CPU ms/rec (+ its processes)", lambda d: d["drain"]["stages"]["worker_cpu_ms"]),
        row(
            "sink rows/s (1 sink, no signal)", lambda d: d["db_write"]["without_signal"]["rows_per_s_1_sink"]
        ),
        row(
            "sink rows/s (4 sinks, no signal)",
            lambda d: d["db_write"]["without_signal"]["rows_per_s_4_sinks"],
        ),
        row(
            "raw asyncpg executemany rows/s (1 conn)",
            lambda d: d["db_write"]["raw_asyncpg_executemany_rows_per_s"],
        ),
        row(
            "bytes/row without / with signal",
            lambda d: "{:.0f} / {:.0f}".format(
                d["db_write"]["without_signal"]["bytes_per_row"],
                d["db_write"]["with_signal"]["bytes_per_row"],
            ),
        ),
        "",
        f"{'ratio (target)':<44}" + "".join(f"{name:>16}" for name in dbs),
        row("end_to_end_over_ceiling (>= 0.8)", lambda d: d["ratios"]["end_to_end_over_ceiling"], "x"),
        row("drain_over_ceiling (>= 0.9)", lambda d: d["ratios"]["drain_over_ceiling"], "x"),
        row("batched_over_per_record (>= 5)", lambda d: d["ratios"]["batched_over_per_record"], "x"),
        row("p99_latency_half_load_s (<= 1 s)", lambda d: d["ratios"]["p99_latency_half_load_s"], "s"),
        row("worker_peak_rss_bytes (<= 1.5 GB)", lambda d: d["ratios"]["worker_peak_rss_bytes"], "MB"),
        row(
            f"two_workers_over_one ({result['machine']['cpu_count']} cores)",
            lambda d: d["ratios"]["two_workers_over_one"],
            "x",
        ),  # fmt: skip
    ]
    return "\n".join(lines)


def render_profiles(result: dict[str, Any]) -> str:
    """Where each profiled run's worker threads spent their time, per stage, in ms per record."""
    lines: list[str] = []
    for db_name, db in result["databases"].items():
        for phase, summary in db.get("profile", {}).items():
            lines.append(
                f"\nprofile {db_name} {phase} ({summary['records']} records, py-spy {summary['rate_hz']} Hz):"
            )
            for role, stages in summary.items():
                if not isinstance(stages, dict) or role.startswith(("metrics", "other threads")):
                    continue
                lines.append(f"  {role}")
                for stage, figures in stages.items():
                    lines.append(
                        f"    {stage:<40}{figures['ms_per_record']:>8.2f} ms/rec{100 * figures['share']:>7.1f} %"
                    )
    return "\n".join(lines)


def _clean(value: Any) -> Any:
    """NaN/inf -> None so the file is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def write_json(result: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_clean(result), indent=2, sort_keys=False) + "\n")


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
