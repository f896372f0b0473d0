"""Sign-in checks against the real databases (Postgres and a SQLite file): issue 18, findings 1 and 9.

Finding 1: ``check_login`` read ``failed_logins``, ran scrypt, then wrote the count + 1, so guesses
sent together were all checked against the password: 40 wrong + 1 right in parallel signed in, with
no lock. Now every attempt is counted (one atomic ``UPDATE ... RETURNING``) before its password is
checked, so at most ``max_failures`` guesses of a burst are ever compared with the real hash.

Finding 9: unknown names, locked and disabled accounts and known names with a wrong password cost
the same work: one UPDATE statement and one scrypt.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

import storage.principals as principals
from storage.auth_models import User
from storage.principals import check_login, create_user

PASSWORD = "correct horse battery staple"
MAX_FAILURES = 5
LOCKOUT_SECONDS = 900


@pytest.fixture
def real_hash_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The hashes every password check of ``check_login`` ran against (a spy: the real scrypt still runs)."""
    seen: list[str] = []
    real = principals._verify

    async def spy(password: str, encoded: str) -> bool:
        seen.append(encoded)
        return await real(password, encoded)

    monkeypatch.setattr(principals, "_verify", spy)
    return seen


async def _login(engine: AsyncEngine, username: str, password: str) -> principals.UserInfo | None:
    return await check_login(engine, username, password, max_failures=MAX_FAILURES, lockout_seconds=LOCKOUT_SECONDS)


async def _row(engine: AsyncEngine, username: str) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(select(User).where(User.username == username))).one()


async def test_parallel_guesses_cannot_outrun_the_lockout(engine: AsyncEngine, real_hash_checks: list[str]) -> None:
    await create_user(engine, "nurse", PASSWORD, ["recordings:read"])
    real_hash = (await _row(engine, "nurse")).password_hash
    wrong = [asyncio.create_task(_login(engine, "nurse", f"wrong guess {i:02d}!")) for i in range(40)]
    await asyncio.sleep(0)  # the 40 wrong guesses are on their way first, as an attacker would send them
    right = asyncio.create_task(_login(engine, "nurse", PASSWORD))
    results = await asyncio.gather(*wrong, right)

    checked = sum(1 for encoded in real_hash_checks if encoded == real_hash)
    print(f"\nLOCKOUT-RACE-FIGURES {engine.dialect.name}: {checked} of 41 parallel guesses checked against the "
          f"password; right one signed in: {results[-1] is not None}")  # fmt: skip
    assert all(result is None for result in results[:-1])
    assert results[-1] is None, "the right password, sent after 40 wrong ones, must find the account locked"
    assert checked <= MAX_FAILURES
    row = await _row(engine, "nurse")
    assert row.locked_until is not None
    assert await _login(engine, "nurse", PASSWORD) is None  # still locked afterwards


async def test_a_right_password_within_the_budget_signs_in_and_resets_the_count(engine: AsyncEngine) -> None:
    await create_user(engine, "nurse", PASSWORD, ["recordings:read"])
    for attempt in range(MAX_FAILURES - 1):
        assert await _login(engine, "nurse", f"wrong {attempt}") is None
    assert (await _row(engine, "nurse")).failed_logins == MAX_FAILURES - 1
    user = await _login(engine, "nurse", PASSWORD)
    assert user is not None and user.username == "nurse" and user.scopes == frozenset({"recordings:read"})
    row = await _row(engine, "nurse")
    assert (row.failed_logins, row.locked_until) == (0, None)


async def test_the_lock_expires_and_counting_starts_again(engine: AsyncEngine) -> None:
    await create_user(engine, "nurse", PASSWORD, ["recordings:read"])
    for attempt in range(MAX_FAILURES):
        assert await check_login(engine, "nurse", f"wrong {attempt}", max_failures=MAX_FAILURES,
                                 lockout_seconds=1) is None  # fmt: skip
    assert await check_login(engine, "nurse", PASSWORD, max_failures=MAX_FAILURES, lockout_seconds=1) is None
    await asyncio.sleep(1.2)
    user = await check_login(engine, "nurse", PASSWORD, max_failures=MAX_FAILURES, lockout_seconds=1)
    assert user is not None


def _statement_counter(engine: AsyncEngine) -> tuple[list[str], Callable[[], None]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.split()[0].upper())

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    return statements, lambda: event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_unknown_locked_disabled_and_known_names_cost_the_same_work(
    engine: AsyncEngine, real_hash_checks: list[str]
) -> None:
    await create_user(engine, "known", PASSWORD, ["recordings:read"])
    await create_user(engine, "locked", PASSWORD, ["recordings:read"])
    await create_user(engine, "gone", PASSWORD, ["recordings:read"])
    await principals.disable_user(engine, "gone")
    for attempt in range(MAX_FAILURES):
        await _login(engine, "locked", f"wrong {attempt}")
    work: dict[str, tuple[list[str], int]] = {}
    for name in ("nobody", "known", "locked", "gone"):
        statements, stop = _statement_counter(engine)
        real_hash_checks.clear()
        try:
            assert await _login(engine, name, "a wrong password") is None
        finally:
            stop()
        work[name] = (statements, len(real_hash_checks))
    print(f"\nLOGIN-WORK-FIGURES {engine.dialect.name}: {work}")
    assert len({repr(value) for value in work.values()}) == 1, work
    assert work["nobody"][1] == 1  # exactly one scrypt on every path
