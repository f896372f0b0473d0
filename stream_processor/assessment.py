"""Signal quality, measurements and rule statements of a batch, optionally spread over processes.

This is the numpy/scipy part of the analysis (``stream_processor.analysis`` adds the model and
fusion). It imports no torch, so the pool's processes stay small (about 60 MB each) and start fast.

``AssessmentPool(processes=n)`` keeps ``n`` spawned processes; ``assess`` cuts a batch into
``n + 1`` contiguous chunks, sends ``n`` of them to the processes and works on the first one in the
calling thread, so one worker uses ``n + 1`` cores for its largest stage. ``processes=0`` does all
of it in the calling thread. The result is the same either way: each recording is assessed on its
own (``tests/stream_processor/test_assessment.py``).

A process that dies (out of memory, killed) breaks the pool; the batch is then assessed in the
calling thread and the pool is replaced, so a lost process never turns into lost recordings.
Processes exit on their own if the worker process dies without shutting the pool down.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

import numpy as np

from measurements import Measurements, QualityReport, RuleStatement, measure_batch
from measurements.quality import assess_quality
from measurements.rules import rule_statements
from measurements.units import amplitudes_in_mv

__all__ = ["Assessed", "AssessmentInput", "assess", "AssessmentPool"]

logger = logging.getLogger(__name__)

ORPHAN_CHECK_SECONDS = 1.0


@dataclass
class Assessed:
    """One recording's quality report and, when readable, its measurements and rule statements."""

    quality: QualityReport
    measurements: Measurements | None = None
    rules: tuple[RuleStatement, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class AssessmentInput:
    """What the assessment needs of one recording (pickled to a pool process: no more than this)."""

    signal: np.ndarray  # (12, N) mV
    fs: float
    sex: str | None
    age: float | None


def assess(items: Sequence[AssessmentInput]) -> list[Assessed]:
    """Quality of every recording; measurements and rule statements of the readable ones. Input order.

    Leads the quality check found unreadable are left out of every measurement and rule (the
    recording's other leads are still read); amplitude criteria apply only where the amplitudes are
    millivolts (``measurements.units``: not scaled lead by lead).
    """
    in_mv = [amplitudes_in_mv(item.signal) for item in items]
    assessed = [
        Assessed(assess_quality(item.signal, item.fs, amplitudes_in_mv=mv))
        for item, mv in zip(items, in_mv, strict=True)
    ]
    readable = [i for i, a in enumerate(assessed) if a.quality.readable]
    if not readable:
        return assessed
    measured = measure_batch(
        [items[i].signal for i in readable],
        [items[i].fs for i in readable],
        usable=[usable_leads(assessed[i].quality) for i in readable],
    )
    for i, m in zip(readable, measured, strict=True):
        assessed[i].measurements = m
        assessed[i].rules = tuple(
            rule_statements(m, assessed[i].quality, sex=items[i].sex, age=items[i].age, amplitudes_valid=in_mv[i])
        )
    return assessed


def usable_leads(quality: QualityReport) -> np.ndarray:
    """One bool per lead: not unreadable in ``quality``."""
    return np.array([lead.verdict != "unreadable" for lead in quality.leads], dtype=bool)


def _exit_when_orphaned(parent: int) -> None:
    while True:
        time.sleep(ORPHAN_CHECK_SECONDS)
        if os.getppid() != parent:
            os._exit(0)


def _init_process(parent: int) -> None:
    """In each pool process: one BLAS thread (the processes are the parallelism); die with the parent."""
    try:
        from threadpoolctl import threadpool_limits  # type: ignore[import-not-found, unused-ignore]

        threadpool_limits(1)
    except ImportError:
        pass
    threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True, name="orphan-check").start()


def _chunks(n: int, parts: int) -> list[slice]:
    """``parts`` contiguous slices of ``range(n)``, as even as possible, none empty."""
    parts = max(1, min(parts, n))
    bounds = [round(i * n / parts) for i in range(parts + 1)]
    return [slice(a, b) for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


class AssessmentPool:
    """``assess`` over ``processes`` spawned processes plus the calling thread (see the module doc)."""

    def __init__(self, processes: int = 0) -> None:
        if processes < 0:
            raise ValueError("processes must be >= 0")
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._closed = False

    def __repr__(self) -> str:
        return f"AssessmentPool(processes={self.processes})"

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise RuntimeError("assessment pool shut down")
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    self.processes, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_init_process, initargs=(os.getpid(),),
                )  # fmt: skip
            return self._pool

    def warm_up(self) -> None:
        """Start the processes and import the measurement code in them (before the first batch)."""
        if self.processes:
            rng = np.random.default_rng(0)
            item = AssessmentInput(rng.normal(0, 0.1, (12, 5000)).astype(np.float32), 500.0, None, None)
            self.assess([item] * (self.processes + 1))

    def assess(self, items: Sequence[AssessmentInput]) -> list[Assessed]:
        """``assess(items)``, spread over the processes and the calling thread."""
        if not self.processes or len(items) < 2 or self._closed:
            return assess(items)
        first, *rest = _chunks(len(items), self.processes + 1)
        try:
            pool = self._executor()
            futures: list[Future[list[Assessed]]] = [pool.submit(assess, list(items[s])) for s in rest]
        except (BrokenProcessPool, RuntimeError) as exc:
            return assess(items) if self._closed else self._without_pool(items, exc)
        try:
            local = assess(items[first])
        finally:  # a failure here still waits for the processes, so no chunk outlives its batch
            done = [self._result(f) for f in futures]
        if any(isinstance(d, BrokenProcessPool) for d in done):
            return self._without_pool(items, next(d for d in done if isinstance(d, BrokenProcessPool)))
        for d in done:
            if isinstance(d, BaseException):
                raise d
        return local + [a for chunk in done for a in chunk]  # type: ignore[union-attr]

    @staticmethod
    def _result(future: Future[list[Assessed]]) -> list[Assessed] | BaseException:
        try:
            return future.result()
        except BaseException as exc:  # noqa: BLE001 - re-raised by the caller after every chunk is done
            return exc

    def _without_pool(self, items: Sequence[AssessmentInput], error: BaseException) -> list[Assessed]:
        logger.error("assessment processes lost; assessing in the worker and replacing them",
                     extra={"error": repr(error)})  # fmt: skip
        with self._lock:
            broken, self._pool = self._pool, None
        if broken is not None:
            broken.shutdown(wait=False, cancel_futures=True)
        return assess(items)

    def shutdown(self) -> None:
        """Stop the processes (a chunk in progress finishes first); later batches are assessed in the
        calling thread (a batch still in analysis while the worker stops starts no new process)."""
        with self._lock:
            pool, self._pool, self._closed = self._pool, None, True
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
