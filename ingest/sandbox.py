"""Read an untrusted ECG file in a separate process with a memory and a wall-time limit.

The readers bound what a file may declare (``ingest.limits``), but decoders are large C libraries
(HDF5, libsndfile, zlib, expat): a file that slips past a check must cost at most one short-lived
process, never the gateway. Each upload is read by a fresh child forked from a forkserver that has
already imported the readers (about 10-30 ms per upload; a crashed or killed child takes nothing
with it, which a reused pool worker could not promise). The child limits its own address space
(``RLIMIT_AS``) before it opens the file; the parent kills it after ``seconds``.

A child that runs out of memory, is killed or overruns its time is reported as
``InvalidRecording(reason=TOO_COMPLEX)``: "file too complex to decode within limits" (HTTP 422).

Each child may use ``memory_bytes``; the total is bounded too: at most ``concurrency``
(``PARSE_CONCURRENCY``) children of this process are alive at once, whoever asks. A read that finds
no free place within ``wait_seconds`` raises ``ParsersBusy`` (the gateway answers 503 + Retry-After).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import resource
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from core.errors import EcgstreamError
from ingest.limits import DEFAULT_LIMITS, ReadLimits
from schemas.errors import InvalidRecording, UnsupportedFormat
from schemas.recording import Recording

__all__ = ["SandboxLimits", "read_isolated", "ParsersBusy", "parsers_alive", "TOO_COMPLEX", "TOO_COMPLEX_MESSAGE"]

logger = logging.getLogger(__name__)

TOO_COMPLEX = "too_complex"
TOO_COMPLEX_MESSAGE = "file too complex to decode within limits"
_PRELOAD = [
    "ingest.detect", "numpy", "h5py", "pydicom", "wfdb", "defusedxml.ElementTree", "pyedflib",
    "ecgdatakit.parsing.parsers.ge_muse_xml", "ecgdatakit.parsing.parsers.sierra_xml",
    "ecgdatakit.parsing.parsers.scp_ecg",
]  # fmt: skip
_context_lock = threading.Lock()
_context: Any = None


class ParsersBusy(EcgstreamError):
    """Every parser place was taken for longer than the caller would wait (not the file's fault)."""

    reason = "parsers_busy"


@dataclass(frozen=True)
class SandboxLimits:
    """What one parsing process may use, and how many may run at once."""

    memory_bytes: int = 512 * 1024 * 1024  # address space on top of the child's imported modules
    seconds: float = 20.0  # wall time, then the child is killed
    concurrency: int = 2  # parser processes of this process alive at once (PARSE_CONCURRENCY)
    wait_seconds: float = 20.0  # longest wait for a place before ParsersBusy


class _Places:
    """A process-wide count of parser processes, bounded by each caller's ``concurrency``."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self.alive = 0

    def take(self, limit: int, wait_seconds: float) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: self.alive < max(1, limit), timeout=wait_seconds):
                raise ParsersBusy(f"all {limit} parser places stayed busy for {wait_seconds:g} s; try again shortly")
            self.alive += 1

    def give_back(self) -> None:
        with self._changed:
            self.alive -= 1
            self._changed.notify()


_PLACES = _Places()


def parsers_alive() -> int:
    """Parser processes of this process alive (or starting) now."""
    return _PLACES.alive


def _forkserver() -> Any:
    global _context
    with _context_lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(_PRELOAD)
            _context = context
        return _context


def _address_space_bytes() -> int | None:
    """This process's virtual size (Linux); ``None`` where ``/proc`` is absent (no RLIMIT_AS then)."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[0]) * resource.getpagesize()
    except OSError:
        return None


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _child(conn: Connection, path: str, read_limits: ReadLimits, memory_bytes: int, seconds: float) -> None:
    """Runs in the child: limit itself, read, send ``(status, payload, peak_rss_bytes)``."""
    from ingest.detect import read_recording

    size = _address_space_bytes()
    if size is not None:  # elsewhere (macOS) only the time limits below apply
        resource.setrlimit(resource.RLIMIT_AS, (size + memory_bytes, size + memory_bytes))
    cpu = int(seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    try:
        recording = read_recording(path, limits=read_limits)
        reply: tuple[Any, ...] = ("ok", recording)
    except EcgstreamError as exc:
        kind = "unsupported" if isinstance(exc, UnsupportedFormat) else "invalid"
        reply = (kind, (exc.message, exc.reason))
    except MemoryError:
        reply = ("invalid", (f"{TOO_COMPLEX_MESSAGE} (memory)", TOO_COMPLEX))
    except BaseException as exc:  # noqa: BLE001 - a reader bug must still give a clear answer
        reply = ("unsupported", (f"unreadable file ({type(exc).__name__})", "unreadable"))
    try:
        conn.send((*reply, _peak_rss_bytes()))
    except MemoryError:
        conn.send(("invalid", (f"{TOO_COMPLEX_MESSAGE} (memory)", TOO_COMPLEX), _peak_rss_bytes()))
    finally:
        conn.close()
        os._exit(0)  # a throw-away process: skip the interpreter's teardown (~100 ms with h5py/pydicom loaded)


@dataclass
class IsolatedRead:
    """A recording and the parsing process's peak resident memory (for tests and metrics)."""

    recording: Recording
    peak_rss_bytes: int


def _too_complex(why: str) -> InvalidRecording:
    return InvalidRecording(f"{TOO_COMPLEX_MESSAGE} ({why})", reason=TOO_COMPLEX)


def read_isolated_measured(
    path: str | Path, *, read_limits: ReadLimits = DEFAULT_LIMITS, limits: SandboxLimits = SandboxLimits()
) -> IsolatedRead:
    """``read_isolated`` that also returns the child's peak RSS; errors carry it as ``peak_rss_bytes``."""
    _PLACES.take(limits.concurrency, limits.wait_seconds)
    try:
        return _read_in_child(path, read_limits, limits)
    finally:
        _PLACES.give_back()


def _read_in_child(path: str | Path, read_limits: ReadLimits, limits: SandboxLimits) -> IsolatedRead:
    context = _forkserver()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_child,
        args=(sender, str(path), read_limits, limits.memory_bytes, limits.seconds),
        name="ecgstream-parse",
        daemon=True,
    )
    process.start()
    sender.close()
    try:
        if not receiver.poll(limits.seconds):
            process.kill()
            logger.warning("parser process killed: time limit", extra={"seconds": limits.seconds})
            raise _too_complex(f"more than {limits.seconds:g} s")
        try:
            status, payload, peak = receiver.recv()
        except (EOFError, OSError):
            process.join(5)
            logger.warning("parser process died", extra={"exitcode": process.exitcode})
            raise _too_complex("the parser process was stopped") from None
    finally:
        receiver.close()
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join(5)
    if status == "ok":
        return IsolatedRead(payload, peak)
    message, reason = payload
    error = (UnsupportedFormat if status == "unsupported" else InvalidRecording)(message, reason=reason)
    error.peak_rss_bytes = peak  # type: ignore[attr-defined]
    raise error


def read_isolated(
    path: str | Path, *, read_limits: ReadLimits = DEFAULT_LIMITS, limits: SandboxLimits = SandboxLimits()
) -> Recording:
    """``ingest.read_recording`` in a fresh child process bounded by ``limits``. Blocking."""
    return read_isolated_measured(path, read_limits=read_limits, limits=limits).recording
