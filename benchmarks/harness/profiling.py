"""Sampling profiles of a running worker with py-spy: collapsed stacks, a flame graph, a stage table.

``Profiler(folder).attach(worker, name)`` runs ``py-spy record --pid`` (non-blocking, 100 Hz, per
thread, idle samples kept) for the duration of a ``with`` block and writes ``<name>.txt`` (collapsed
stacks) and ``<name>.svg`` (a flame graph) into the folder. ``summarise`` sorts each sample of the
worker's two busy threads (the asyncio event loop and the inference executor thread) into pipeline
stages by the innermost ecgstream function on its stack, so "where the time goes" is read off the
real worker, not guessed. py-spy is in the ``bench`` extra (``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import html
import logging
import shutil
import signal
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ecgstream.stack import WorkerProcess

__all__ = ["Profiler", "summarise", "render_flamegraph", "classify", "py_spy_path"]

logger = logging.getLogger(__name__)

RATE_HZ = 100

# (stage, function, file suffix): the innermost frame on a stack that matches one of these names the
# stage the sample belongs to. Library frames (aiokafka, SQLAlchemy, numpy...) inherit the stage of
# the ecgstream function that called them.
STAGE_FRAMES: tuple[tuple[str, str, str], ...] = (
    ("decode", "decode_recording", "schemas/recording_event.py"),
    ("validate", "validate_recording", "schemas/validation.py"),
    ("preprocess", "preprocess_batch", "model/preprocessing.py"),
    ("model", "forward_windows", "model/predictor.py"),
    ("measurements", "measure", "measurements/__init__.py"),
    ("assessment (quality, measurements, rules)", "assess", "stream_processor/assessment.py"),
    ("fusion", "fuse", "interpretation/fusion.py"),
    ("results+events", "diagnosis_result", "stream_processor/steps/store.py"),
    ("results+events", "diagnosis_event", "stream_processor/steps/events.py"),
    ("results+events", "encode_diagnosis", "schemas/diagnosis_event.py"),
    ("db write", "write_batch", "storage/sink.py"),
    ("publish events", "publish", "stream_processor/publishing.py"),
    ("metrics+logs", "observe_stored", "stream_processor/steps/observe.py"),
    ("metrics+logs", "handle", "logging/__init__.py"),
    ("ack", "ack", "faust/streams.py"),
)
# (stage, file fragment) for samples outside every ecgstream stage, checked innermost first.
# SQLAlchemy's async layer runs the statement compile + execute in a greenlet whose frames py-spy
# shows without the calling coroutine, so they are recognised by file.
LIBRARY_FILES: tuple[tuple[str, str], ...] = (
    ("db write", "sqlalchemy/"),
    ("db write", "asyncpg/"),
    ("db write", "aiosqlite/"),
    ("kafka client (fetch, commit, produce)", "aiokafka/"),
    ("faust/mode (stream, consumer)", "faust/"),
    ("faust/mode (stream, consumer)", "mode/"),
    ("asyncio loop", "asyncio/"),
    ("pickling to/from the assessment processes", "multiprocessing/"),
)
# Innermost frames of a thread that is waiting, not computing.
IDLE_FRAMES: tuple[tuple[str, str], ...] = (
    ("select", "selectors.py"),
    ("wait", "threading.py"),
    ("get", "queue.py"),
    ("_worker", "concurrent/futures/thread.py"),
    ("serve_forever", "socketserver.py"),
    ("_recv", "multiprocessing/connection.py"),
    ("_exit_when_orphaned", "stream_processor/assessment.py"),  # its once-a-second parent check  # an assessment process waiting for work (and reading it)
    ("sleep", ""),
)


def py_spy_path() -> str | None:
    """The py-spy executable beside this Python, or on PATH; None if not installed."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def _frame(text: str) -> tuple[str, str]:
    """'Class.func (path/file.py:123)' -> ('func', 'path/file.py')."""
    name, _, location = text.partition(" (")
    return name.strip().rsplit(".", 1)[-1], location.rsplit(":", 1)[0]


def classify(frames: list[str]) -> str:
    """The stage of one sample, given its frames from outermost to innermost."""
    parsed = [_frame(f) for f in frames]
    if parsed:
        name, path = parsed[-1]
        if any(name == fn and path.endswith(suffix) for fn, suffix in IDLE_FRAMES):
            return "idle (waiting)"
    for name, path in reversed(parsed):
        for stage, fn, suffix in STAGE_FRAMES:
            if name == fn and path.endswith(suffix):
                return stage
    for _name, path in reversed(parsed):
        for stage, fragment in LIBRARY_FILES:
            if fragment in path:
                return stage
    return "other python"


def _read_collapsed(path: Path) -> Iterator[tuple[list[str], int]]:
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            yield stack.split(";"), int(count)


def _thread_role(thread: str, stacks: list[list[str]]) -> str:
    """What a worker thread does, from its name ('thread (123): MainThread') and its stacks."""
    name = thread.rpartition(": ")[2]
    text = ";".join(";".join(s) for s in stacks)
    if "concurrent/futures/process.py" in text and "_process_worker" in text:
        return "assessment processes (ANALYSIS_PROCESSES: quality, measurements, rules)"
    if name == "MainThread":
        return "main thread (asyncio loop: faust agent, decode, db, events)"
    if name.startswith("inference") or "_run_model" in text:
        return "inference thread (assessment share, preprocess, model, fusion)"
    if "mode/threads.py" in text:
        return "consumer thread (faust/aiokafka fetch loop)"
    if "aiosqlite/" in text:
        return "aiosqlite thread (in SQLite or waiting)"
    if "serve_forever" in text:
        return "metrics HTTP thread"
    return "other threads"


def summarise(collapsed: Path, records: float) -> dict[str, Any]:
    """Seconds and ms per record of each stage, per thread role, from a collapsed-stacks file."""
    by_thread: dict[str, list[tuple[list[str], int]]] = defaultdict(list)
    for frames, count in _read_collapsed(collapsed):
        # --subprocesses: "process ..." then "thread ..." frames; both name the thread
        leading = [f for f in frames[:2] if f.startswith(("thread ", "process "))]
        thread = ";".join(leading) if leading else "thread ?"
        rest = [f for f in frames if not f.startswith(("thread ", "process "))]
        by_thread[thread].append((rest, count))
    roles: dict[str, Counter[str]] = defaultdict(Counter)
    for thread, samples in by_thread.items():
        role = _thread_role(thread, [frames for frames, _ in samples])
        for frames, count in samples:
            roles[role][classify(frames)] += count
    out: dict[str, Any] = {"records": records, "rate_hz": RATE_HZ}
    for role, counts in roles.items():
        total = sum(counts.values())
        out[role] = {
            stage: {
                "seconds": n / RATE_HZ,
                "share": n / total,
                "ms_per_record": 1000 * n / RATE_HZ / records if records else None,
            }
            for stage, n in counts.most_common()
        }
    return out


def render_flamegraph(collapsed: Path, svg: Path, title: str, width: int = 1400) -> None:
    """A static flame graph (root at the bottom) with a tooltip per frame; no JavaScript."""
    tree: dict[str, Any] = {"n": 0, "kids": {}}
    for frames, count in _read_collapsed(collapsed):
        node = tree
        node["n"] += count
        for frame in frames:
            node = node["kids"].setdefault(frame, {"n": 0, "kids": {}})
            node["n"] += count
    total = max(tree["n"], 1)
    row_h, rects, max_depth = 16, [], [0]

    def walk(node: dict[str, Any], x: float, depth: int) -> None:
        for name, kid in sorted(node["kids"].items()):
            w = width * kid["n"] / total
            if w >= 0.5:
                max_depth[0] = max(max_depth[0], depth)
                label = html.escape(name)
                tip = f"{label} ({kid['n']} samples, {100 * kid['n'] / total:.1f}%)"
                hue = 20 + (hash(name.partition(" (")[0]) % 40)
                short = name if name.startswith("thread ") else name.partition(" (")[0]
                text = html.escape(short[: int(w / 7)]) if w > 30 else ""
                rects.append((x, depth, w, tip, hue, text))
                walk(kid, x, depth + 1)
            x += w

    walk(tree, 0.0, 0)
    height = (max_depth[0] + 2) * row_h + 24
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="monospace" font-size="11"><text x="4" y="14">{html.escape(title)}</text>']  # fmt: skip
    for x, depth, w, tip, hue, text in rects:
        y = height - (depth + 1) * row_h
        parts.append(f'<g><title>{tip}</title><rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row_h - 1}" '
                     f'fill="hsl({hue},80%,60%)"/><text x="{x + 2:.1f}" y="{y + 11}">{text}</text></g>')  # fmt: skip
    parts.append("</svg>")
    svg.write_text("\n".join(parts))


class Profiler:
    """Attaches py-spy to worker processes and writes the profiles into ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.executable = py_spy_path()
        if self.executable is None:
            raise RuntimeError("py-spy is not installed: .venv/bin/pip install -e '.[bench]'")
        folder.mkdir(parents=True, exist_ok=True)
        self.files: dict[str, Path] = {}

    @contextmanager
    def attach(self, worker: WorkerProcess, name: str) -> Iterator[None]:
        assert worker.process is not None and self.executable is not None
        collapsed = self.folder / f"{name}.txt"
        command = [self.executable, "record", "--pid", str(worker.process.pid), "--rate", str(RATE_HZ),
                   "--nonblocking", "--threads", "--idle", "--subprocesses", "--format", "raw",
                   "--output", str(collapsed)]  # fmt: skip
        spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            yield
        finally:
            spy.send_signal(signal.SIGINT)
            try:
                _, err = spy.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                spy.kill()
                _, err = spy.communicate()
        if not collapsed.exists():
            logger.warning("py-spy wrote no profile", extra={"profile": name, "stderr": err.decode()[-500:]})
            return
        render_flamegraph(collapsed, collapsed.with_suffix(".svg"), f"ecgstream worker: {name}")
        self.files[name] = collapsed
        logger.info("profile written", extra={"profile": str(collapsed.with_suffix(".svg"))})
