"""``ecgstream replay``: another model version on the stored recordings, beside their stored diagnoses.

    ecgstream replay --model NEW.pt [--since DATE] [--until DATE] [--limit N] [--json OUT]
    ecgstream replay --shadow [VERSION] [--since DATE] [--until DATE] [--limit N] [--json OUT]

``--model``: every stored recording with kept samples (``STORE_SIGNAL`` rows or the gateway's
tracings) in ``since <= stored time < until`` is analysed again with NEW (``stream_processor.replay``)
and compared with its stored (authoritative) diagnosis. ``--shadow``: the same report from the results
a worker's shadow model stored (``SHADOW_MODEL_PATH``), nothing analysed. The database is opened
read-only (``--url``, else ``DATABASE_URL``, else the embedded SQLite file): nothing is written, the
report goes to stdout and, with ``--json``, whole to a file (no ``replays`` table: a replay is a
question asked once, its answer a report, and a read-only run can use a read replica).

Exit status 0 when the report was made, 2 when the model or the database could not be opened.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stream_processor.analysis import BatchAnalyser
    from stream_processor.replay import ReplayCounts, ReplayResult

__all__ = ["add_arguments", "run", "format_report"]

logger = logging.getLogger(__name__)

PROGRESS_LOG_SECONDS = 30.0


def _moment(text: str) -> datetime:
    """An ISO date or date-time; naive values are UTC."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO date or date-time: {text!r}") from exc
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", type=Path, help="checkpoint of the model version to replay")
    source.add_argument("--shadow", nargs="?", const="", metavar="VERSION",
                        help="report the shadow results the worker stored (of VERSION; default: every version)")
    parser.add_argument("--since", type=_moment, help="recordings stored at or after this date (UTC unless given)")
    parser.add_argument("--until", type=_moment, help="recordings stored before this date")
    parser.add_argument("--limit", type=_positive, help="at most this many recordings")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the whole report as JSON to OUT")
    parser.add_argument("--url", help="database URL (default: DATABASE_URL or the embedded SQLite)")
    parser.add_argument("--examples", type=_positive, default=5, help="example recording ids per change (5)")
    parser.add_argument("--page-size", type=_positive, default=32, help="recordings read and analysed at a time (32)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: TORCH_THREADS)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def run(args: argparse.Namespace) -> int:
    from sqlalchemy.engine import make_url

    from core.config import load_settings

    settings = load_settings()
    url = args.url or settings.effective_database_url
    parsed = make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        print(f"ecgstream replay: no database file at {shown}", file=sys.stderr)
        return 2
    analyser = None
    if args.model is not None:
        from model import Predictor
        from stream_processor.analysis import AnalysisOptions, BatchAnalyser

        try:
            predictor = Predictor.load(args.model, torch_threads=args.threads or settings.torch_threads)
        except Exception as exc:  # noqa: BLE001 - any unreadable checkpoint (pickle, zip, shape errors)
            print(f"ecgstream replay: cannot load model {args.model}: {exc}", file=sys.stderr)
            return 2
        analyser = BatchAnalyser(predictor, AnalysisOptions(measure=settings.measurements, fusion=settings.fusion))
    from storage.errors import DatabaseUnavailable, StorageError

    try:
        result = asyncio.run(_replay(url, analyser, args))
    except (DatabaseUnavailable, StorageError) as exc:
        print(f"ecgstream replay: {shown}: {exc.__cause__ or exc}", file=sys.stderr)
        return 2
    print(format_report(result, against=shown))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result.as_json(), indent=1) + "\n", "utf-8")
    return 0


async def _replay(url: str, analyser: BatchAnalyser | None, args: argparse.Namespace) -> ReplayResult:
    from tqdm import tqdm

    from storage import create_engine
    from storage.stored_recordings import count_stored_recordings
    from stream_processor.replay import replay_stored, shadow_agreement

    engine = create_engine(url, read_only=True)  # every session refuses writes
    total = args.limit
    if analyser is not None:
        stored = await count_stored_recordings(engine, since=args.since, until=args.until)
        total = stored if total is None else min(total, stored)
    bar = tqdm(desc="replay", unit="rec", total=total, disable=True if args.no_progress else None, file=sys.stderr)
    last_log = [time.monotonic()]

    def progress(counts: ReplayCounts) -> None:
        bar.update(counts.read - bar.n)
        bar.set_postfix(compared=counts.compared, skipped=counts.read - counts.compared)
        if time.monotonic() - last_log[0] >= PROGRESS_LOG_SECONDS:
            last_log[0] = time.monotonic()
            logger.info("replay progress", extra=counts.as_json())

    window = {"since": args.since, "until": args.until, "limit": args.limit, "examples": args.examples}
    try:
        if analyser is not None:
            result = await replay_stored(engine, analyser, page_size=args.page_size, progress=progress, **window)
        else:
            result = await shadow_agreement(engine, shadow_version=args.shadow or None, progress=progress, **window)
    finally:
        bar.close()
        await engine.dispose()
    logger.info("replay done", extra={"model_version": result.model_version, **result.counts.as_json()})
    return result


def _ids(ids: list[str]) -> str:
    return ", ".join(ids)


def format_report(result: ReplayResult, *, against: str = "") -> str:
    """The agreement report as text (stdout of ``ecgstream replay``)."""
    c, r = result.counts, result.report
    versions = ", ".join(f"{v} ({n})" for v, n in c.stored_versions.most_common()) or "-"
    sources = ", ".join(f"{s} {n}" for s, n in sorted(c.sample_sources.items())) or "-"
    lines = [
        f"replay of model {result.model_version} against the stored diagnoses" + (f" in {against}" if against else ""),
        f"recordings read {c.read}, compared {c.compared}; skipped: {c.no_samples} without samples, "
        f"{c.no_diagnosis} without a diagnosis, {c.invalid} with invalid samples, {c.failed} failed analysis",
        f"samples from: {sources}; stored model versions: {versions}",
        f"changed: statements in {r.records_with_statement_changes} records, critical findings in {r.critical_changed}, "
        f"headline verdicts in {r.verdict_changed}, certainty (definite/possible) in {r.certainty_changed}, "
        f"readability in {r.readability_changed}",
        "",
        f"{'code':>4}  {'statement':<34} {'stored':>6} {'replay':>6} {'both':>5} {'kappa':>6} {'newly':>5} {'no longer':>9}",
    ]  # fmt: skip
    for code in r.codes:
        lines.append(f"{code.code:>4}  {code.description[:34]:<34} {code.n_stored:>6} {code.n_replay:>6} {code.both:>5} "
                     f"{code.kappa(r.n):>6.3f} {code.newly_called:>5} {code.no_longer_called:>9}")  # fmt: skip
    if not r.codes:
        lines.append("  (no statement called by either version)")
    lines += ["", f"records with statement changes: {r.records_with_statement_changes} of {r.n}"]
    for code in r.codes:
        if code.newly_examples:
            lines.append(f"  {code.code} newly called: {_ids(code.newly_examples)}")
        if code.no_longer_examples:
            lines.append(f"  {code.code} no longer called: {_ids(code.no_longer_examples)}")
    raised = ", ".join(f"{k} {v}" for k, v in r.critical_raised.items()) or "-"
    cleared = ", ".join(f"{k} {v}" for k, v in r.critical_cleared.items()) or "-"
    lines += ["", f"critical findings changed in {r.critical_changed} records; raised: {raised}; cleared: {cleared}"]
    for e in r.critical_examples:
        lines.append(f"  {e['recording_id']}: {e['stored'] or '-'} -> {e['replay'] or '-'}")
    transitions = ", ".join(f"{k} {v}" for k, v in r.verdict_transitions.items()) or "-"
    lines += ["", f"headline verdicts changed in {r.verdict_changed} records; kind changes: {transitions}"]
    for e in r.verdict_examples:
        lines.append(f"  {e['recording_id']}: {e['stored']!r} -> {e['replay']!r}")
    lines.append(f"readability changed in {r.readability_changed} records")
    return "\n".join(lines)
