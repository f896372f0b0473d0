"""``AssessmentPool``: quality, measurements and rules spread over real processes give the same
answers as in one thread, survive a killed process, and do not outlive a killed worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from stream_processor.analysis import event_measurements, event_quality
from stream_processor.assessment import Assessed, AssessmentInput, AssessmentPool, assess
from tests.conftest import REPO_ROOT
from tests.stream_processor.records import cinc_recordings, leads_off_recording


def _inputs() -> list[AssessmentInput]:
    recordings = cinc_recordings()
    recordings.insert(3, leads_off_recording(recordings[0]))  # one unreadable among them
    return [AssessmentInput(r.signal, float(r.fs), r.sex, r.age) for r in recordings]


def _comparable(assessed: list[Assessed]) -> list[tuple[object, ...]]:
    return [
        (
            event_quality(a.quality).as_record(),
            None if a.measurements is None else event_measurements(a.measurements).as_record(),
            a.rules,
        )
        for a in assessed
    ]


@pytest.fixture
def pool() -> object:
    pool = AssessmentPool(2)
    yield pool
    pool.shutdown()


def test_processes_give_the_same_answers_as_one_thread_in_input_order(pool: AssessmentPool) -> None:
    items = _inputs()
    alone = assess(items)
    spread = pool.assess(items)

    assert [a.quality.readable for a in alone].count(False) == 1
    assert _comparable(spread) == _comparable(alone)
    assert len(pool._executor()._processes) == 2  # the work really went to two processes


def test_a_killed_process_costs_no_recording(pool: AssessmentPool) -> None:
    items = _inputs()
    pool.warm_up()
    for pid in list(pool._executor()._processes):
        os.kill(pid, signal.SIGKILL)
    after_kill = pool.assess(items)  # assessed in the calling thread; the pool is replaced
    again = pool.assess(items)  # new processes

    assert _comparable(after_kill) == _comparable(again) == _comparable(assess(items))


def test_processes_exit_when_the_worker_process_dies() -> None:
    script = textwrap.dedent("""
        import os
        from stream_processor.assessment import AssessmentPool
        pool = AssessmentPool(1)
        pool.warm_up()
        print(*pool._executor()._processes, flush=True)
        os._exit(0)  # like a SIGKILL of the worker: no shutdown of the pool
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    children = [int(pid) for pid in done.stdout.split()]
    assert len(children) == 1
    deadline = time.monotonic() + 30  # a generous bound for a busy machine; the check runs every second
    while time.monotonic() < deadline and any(_alive(pid) for pid in children):
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in children), "an orphaned assessment process stayed behind"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_after_shutdown_batches_are_assessed_in_the_calling_thread() -> None:
    pool = AssessmentPool(1)
    pool.warm_up()
    pool.shutdown()
    items = _inputs()[:3]
    assert _comparable(pool.assess(items)) == _comparable(assess(items))
    assert pool._pool is None  # no process was started again
