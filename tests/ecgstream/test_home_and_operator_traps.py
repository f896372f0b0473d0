"""Issue 18, finding 6 and the operator traps: what ``ECGSTREAM_HOME`` holds is private and secret-free,
and the commands a newcomer types either work or say exactly what is wrong.

Before the fix ``stack.json`` held the Postgres password in clear (0644), the SQLite file and logs
were 0644; ``token create`` from another folder advised ``db upgrade`` (which made a second, empty
database); ``up`` with its port taken printed the URL and an admin password as if the page were up.
Real processes, real files, a real embedded Tansu broker and SQLite database.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.config import Settings
from core.stack_info import StackInfo, write_stack_info
from ecgstream.embedded import free_port
from ecgstream.stack import ChildProcess, LocalStack
from storage import upgrade

REPO = Path(__file__).resolve().parents[2]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_home_folder_holds_private_files_only(tmp_path):
    home = tmp_path / "home"
    settings = Settings(home=home)
    stack = LocalStack(settings, workers=0).start()  # embedded Tansu, migrated SQLite, topics
    try:
        child = ChildProcess("db", stack.child_env(), stack.log_dir / "child.log", "child").start()
        child.process.wait(60)  # type: ignore[union-attr]
        write_stack_info(settings, StackInfo(stack.bootstrap, stack.database_url))
    finally:
        stack.stop()
    modes = {str(path.relative_to(home)): oct(_mode(path)) for path in sorted(home.rglob("*"))}
    print(f"\nHOME-FIGURES {modes}")
    assert _mode(home) == 0o700 and _mode(home / "logs") == 0o700
    files = [path for path in home.rglob("*") if path.is_file()]
    assert {path.name for path in files} >= {"ecgstream.db", "tansu.log", "child.log", "stack.json"}
    assert all(_mode(path) == 0o600 for path in files), modes


def test_stack_json_holds_no_password(tmp_path):
    settings = Settings(home=tmp_path / "home")
    url = "postgresql+asyncpg://ecgstream:s3cr3t-pg-password@db.hospital:5432/ecgstream"
    path = write_stack_info(settings, StackInfo("kafka:9092", url, "http://127.0.0.1:8080/"))
    text = path.read_text()
    assert "s3cr3t-pg-password" not in text
    assert "postgresql+asyncpg://ecgstream:***@db.hospital:5432/ecgstream" in text
    assert _mode(path) == 0o600


def _cli(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "ECGSTREAM_HOME", "KAFKA_BOOTSTRAP"}}
    base["PYTHONPATH"] = str(REPO)
    return subprocess.run([sys.executable, "-m", "ecgstream.cli", *args], cwd=cwd, env={**base, **env},
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_token_create_in_another_folder_says_which_database_and_creates_none(tmp_path):
    stack_home = tmp_path / "project" / "var"
    upgrade(f"sqlite+aiosqlite:///{stack_home / 'ecgstream.db'}")  # the stack's database, as `up` leaves it
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    lost = _cli(["token", "create", "--name", "cart-7", "--scope", "recordings:write"], cwd=elsewhere)
    assert lost.returncode == 2, lost.stdout + lost.stderr
    assert "ECGSTREAM_HOME" in lost.stderr and str(elsewhere / "var" / "ecgstream.db") in lost.stderr
    assert "db upgrade" not in lost.stderr and "Traceback" not in lost.stderr
    assert not (elsewhere / "var").exists(), "no second, empty database"

    found = _cli(["token", "create", "--name", "cart-7", "--scope", "recordings:write"], cwd=elsewhere,
                 ECGSTREAM_HOME=str(stack_home))  # fmt: skip
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip().splitlines()[-1].startswith("ecgs_")
    assert f"database: the SQLite file {stack_home / 'ecgstream.db'}" in found.stderr


@pytest.mark.parametrize("how", ["--port", "GATEWAY_PORT"])
def test_up_with_its_port_taken_says_so_at_once(tmp_path, how):
    with socket.socket() as other_program:
        other_program.bind(("127.0.0.1", 0))
        other_program.listen()
        port = other_program.getsockname()[1]
        args, env = (["up", "--port", str(port)], {}) if how == "--port" else (["up"], {"GATEWAY_PORT": str(port)})
        started = time.monotonic()
        done = _cli(args, cwd=tmp_path, ECGSTREAM_HOME=str(tmp_path / "home"), METRICS_PORT=str(free_port()), **env)
        took = time.monotonic() - started
    print(f"\nPORT-FIGURES `ecgstream up` with {how} taken: exit {done.returncode} after {took:.1f} s")
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"127.0.0.1:{port} is already in use" in done.stderr and "--port" in done.stderr
    assert "sign in as admin" not in done.stdout and "gateway:" not in done.stdout
    assert took < 30


def test_the_readme_names_the_port_and_home_settings():
    readme = (REPO / "README.md").read_text()
    for needle in ("GATEWAY_PORT", "ECGSTREAM_HOME", "ecgstream up [--workers N] [--port P]", "PARSE_CONCURRENCY",
                   "REQUEST_HEADER_TIMEOUT_SECONDS", "RENDER_MAX_PER_PRINCIPAL", "LOGIN_MAX_PENDING"):
        assert needle in readme, needle
