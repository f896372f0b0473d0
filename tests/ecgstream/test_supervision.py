"""The restart policy of `ecgstream up` (pure: a fake clock and fake processes, no waiting)."""

from __future__ import annotations

import pytest

from ecgstream.supervision import RestartPolicy, Supervisor


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class _FakeProcess:
    """Stands in for an OS process: the policy only reads ``running``/``exit_code`` and calls ``start``."""

    def __init__(self, name: str = "worker-0") -> None:
        self.name = name
        self.running = True
        self.exit_code: int | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        self.running, self.exit_code = True, None

    def die(self, code: int = -9) -> None:
        self.running, self.exit_code = False, code


def test_backoff_doubles_on_fast_failures_and_resets_after_a_healthy_run() -> None:
    policy = RestartPolicy(initial_delay=0.5, max_delay=4.0, healthy_after=30.0, max_fast_failures=10)
    policy.started(0.0)
    delays = []
    for t in range(1, 6):  # dies one second after each start
        decision = policy.exited(float(t * 10))
        policy.started(float(t * 10))
        delays.append(decision.delay)
    assert delays == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert policy.restarts == 5
    decision = policy.exited(1000.0)  # ran for 950 s: healthy, back to the first delay
    assert (decision.restart, decision.delay, decision.fast_failures) == (True, 0.5, 1)


def test_gives_up_after_too_many_fast_failures() -> None:
    policy = RestartPolicy(max_fast_failures=3, healthy_after=30.0)
    policy.started(0.0)
    decisions = []
    for t in range(1, 5):
        decisions.append(policy.exited(float(t)))
        policy.started(float(t))
    assert [d.restart for d in decisions] == [True, True, True, False]


def test_supervisor_restarts_a_dead_process_after_its_delay_and_counts() -> None:
    clock = _Clock()
    supervisor = Supervisor(lambda: RestartPolicy(initial_delay=1.0, healthy_after=30.0), clock)
    process = _FakeProcess()
    supervisor.watch(process)
    assert supervisor.check() is None and process.starts == 0  # alive: nothing to do
    clock.now += 60
    process.die()
    assert supervisor.check() is None and process.starts == 0  # restart scheduled in 1 s
    clock.now += 0.5
    assert supervisor.check() is None and process.starts == 0
    clock.now += 0.6
    assert supervisor.check() is None and process.starts == 1
    assert supervisor.restarts(process) == 1


def test_supervisor_reports_a_crash_loop() -> None:
    clock = _Clock()
    supervisor = Supervisor(lambda: RestartPolicy(initial_delay=0.1, max_fast_failures=2), clock)
    process = _FakeProcess("gateway")
    supervisor.watch(process)
    message = None
    for _ in range(10):
        process.die(code=3)
        message = supervisor.check()
        if message:
            break
        clock.now += 1.0
        supervisor.check()  # restart is due
    assert message is not None and "gateway" in message and "exit code 3" in message
    assert process.starts == 2


def test_a_forgotten_process_is_not_restarted() -> None:
    clock = _Clock()
    supervisor = Supervisor(clock=clock)
    process = _FakeProcess()
    supervisor.watch(process)
    supervisor.forget(process)
    process.die()
    clock.now += 100
    assert supervisor.check() is None and process.starts == 0
    with pytest.raises(KeyError):
        supervisor.restarts(process)
