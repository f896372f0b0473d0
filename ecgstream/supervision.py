"""Restart policy for the processes of the local stack: restart with backoff, give up on a crash loop.

A process that dies is restarted after a delay that doubles with every consecutive *fast* failure
(one that came less than ``healthy_after`` seconds after its start), from ``initial_delay`` up to
``max_delay``. A process that ran for ``healthy_after`` seconds before dying is taken to have been
healthy: its next restart waits ``initial_delay`` again. After ``max_fast_failures`` fast failures
in a row the policy gives up (the process crashes at start-up: restarting it again helps no one).

Pure logic: the caller passes the clock readings, so the policy is tested without waiting.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["RestartPolicy", "RestartDecision", "Supervised", "Supervisor"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RestartDecision:
    """What to do about a process that exited: restart it after ``delay`` s, or give up."""

    restart: bool
    delay: float
    restarts: int  # restarts so far, this one included when ``restart``
    fast_failures: int  # consecutive failures within ``healthy_after`` of a start


@dataclass
class RestartPolicy:
    """Backoff state of one supervised process."""

    initial_delay: float = 0.5
    max_delay: float = 30.0
    healthy_after: float = 30.0
    max_fast_failures: int = 5
    restarts: int = 0
    fast_failures: int = 0
    _started_at: float | None = field(default=None, repr=False)

    def started(self, now: float) -> None:
        """Record that the process was (re)started at monotonic time ``now``."""
        self._started_at = now

    def exited(self, now: float) -> RestartDecision:
        """Decide what to do about an exit seen at monotonic time ``now``."""
        uptime = now - self._started_at if self._started_at is not None else 0.0
        self.fast_failures = self.fast_failures + 1 if uptime < self.healthy_after else 1
        if self.fast_failures > self.max_fast_failures:
            return RestartDecision(False, 0.0, self.restarts, self.fast_failures)
        delay = min(self.max_delay, self.initial_delay * 2 ** (self.fast_failures - 1))
        self.restarts += 1
        return RestartDecision(True, delay, self.restarts, self.fast_failures)


class Supervised(Protocol):
    """A process the supervisor can watch and start again."""

    name: str

    @property
    def running(self) -> bool: ...

    @property
    def exit_code(self) -> int | None: ...

    def start(self) -> object: ...


class Supervisor:
    """Restarts the processes it watches when they die, each with its own ``RestartPolicy``.

    Call ``check()`` periodically (``ecgstream up`` does, every quarter second). It returns None while
    all is well, or a message when a process keeps failing fast and has been given up on (the
    caller then stops the stack). Processes stopped on purpose must be ``forget``-ten first.
    """

    def __init__(
        self,
        policy_factory: Callable[[], RestartPolicy] = RestartPolicy,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._policy_factory = policy_factory
        self._clock = clock
        self._watched: dict[int, tuple[Supervised, RestartPolicy]] = {}
        self._restart_at: dict[int, float] = {}

    def watch(self, process: Supervised) -> None:
        """Supervise ``process`` (already started) from now on."""
        policy = self._policy_factory()
        policy.started(self._clock())
        self._watched[id(process)] = (process, policy)

    def forget(self, process: Supervised) -> None:
        self._watched.pop(id(process), None)
        self._restart_at.pop(id(process), None)

    def restarts(self, process: Supervised) -> int:
        """How often ``process`` was restarted so far."""
        return self._watched[id(process)][1].restarts

    def check(self) -> str | None:
        """Restart what died and is due; a message when a process has been given up on."""
        now = self._clock()
        for key, (process, policy) in list(self._watched.items()):
            due = self._restart_at.get(key)
            if due is None and not process.running:
                decision = policy.exited(now)
                if not decision.restart:
                    message = (
                        f"{process.name} exited {decision.fast_failures} times in a row within "
                        f"{policy.healthy_after:.0f} s of starting (last exit code {process.exit_code}); giving up"
                    )
                    logger.error("process keeps failing; giving up", extra={"child": process.name,
                                 "exit_code": process.exit_code, "fast_failures": decision.fast_failures})  # fmt: skip
                    return message
                self._restart_at[key] = now + decision.delay
                logger.warning(
                    "process exited; restarting",
                    extra={"child": process.name, "exit_code": process.exit_code,
                           "restart_in_s": decision.delay, "restarts": decision.restarts},
                )  # fmt: skip
            elif due is not None and now >= due:
                del self._restart_at[key]
                policy.started(now)
                try:
                    process.start()
                except Exception as exc:  # noqa: BLE001 - counts as a fast failure on the next check
                    logger.error("restart failed", extra={"child": process.name, "error": repr(exc)})
                    continue
                logger.warning("process restarted", extra={"child": process.name, "restarts": policy.restarts})
        return None
