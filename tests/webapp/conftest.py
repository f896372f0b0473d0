"""Gateway fixtures: the app served by a real uvicorn on a free loopback port, ECG files to upload."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest

from core.config import Settings
from ecgstream.embedded import free_port
from ingest import read_recording
from ingest.writers import write_dicom
from schemas import Recording
from tests.conftest import shared_data_dir
from webapp import create_app


@contextmanager
def serve_gateway(settings: Settings, bootstrap: str, **app_options: object) -> Iterator[str]:
    """Run ``create_app`` under uvicorn in a thread, configured exactly as ``ecgstream gateway`` runs it
    (``webapp.server.server_config``: deadlines, no proxy headers); yields the base URL, stops on exit."""
    import uvicorn

    from webapp.server import server_config

    app = create_app(settings, bootstrap, **app_options)  # type: ignore[arg-type]
    port = free_port()
    server = uvicorn.Server(server_config(app, settings, host="127.0.0.1", port=port))
    thread = threading.Thread(target=server.run, name="gateway", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the gateway did not start (see the log above)")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


def bearer(token: str) -> dict[str, str]:
    """The header carrying an API token."""
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def base_url(settings: Settings) -> Iterator[str]:
    """A gateway on the isolated stack of ``settings`` (no worker: tests write diagnoses themselves)."""
    with serve_gateway(settings, settings.kafka_bootstrap) as url:
        yield url


def api_token(database_url: str, *scopes: str, name: str = "tests", expires_at: datetime | None = None) -> str:
    """A new API token in the real database (as `ecgstream token create` makes it)."""
    from storage import create_engine
    from storage.principals import create_token

    async def create() -> str:
        engine = create_engine(database_url)
        try:
            return (await create_token(engine, name, scopes or ("admin",), expires_at))[1]
        finally:
            await engine.dispose()

    return asyncio.run(create())


def login_user(database_url: str, username: str, password: str, *scopes: str) -> None:
    """A new page user in the real database (as `ecgstream user create` makes it)."""
    from storage import create_engine
    from storage.principals import create_user

    async def create() -> None:
        engine = create_engine(database_url)
        try:
            await create_user(engine, username, password, scopes or ("recordings:write", "recordings:read"))
        finally:
            await engine.dispose()

    asyncio.run(create())


def write_diagnoses(settings: Settings, *results: object, after: object = None) -> None:
    """Write ``results`` (``storage.DiagnosisResult``) through the real SQL sink, as the worker does;
    ``after(engine)``, when given, is awaited on the same engine (kept samples, owners)."""
    from storage import SqlDiagnosisSink, create_engine

    async def write() -> None:
        assert settings.database_url is not None
        engine = create_engine(settings.database_url)
        try:
            await SqlDiagnosisSink(engine, hmac_secret=settings.patient_hmac_secret).write_batch(list(results))  # type: ignore[arg-type]
            if after is not None:
                await after(engine)  # type: ignore[operator]
        finally:
            await engine.dispose()

    asyncio.run(write())


def cinc_record(name: str = "E07501") -> Path:
    """The .hea of one real CinC 2021 record (skips when ../shared/data is absent)."""
    return shared_data_dir("cinc2021") / f"{name}.hea"


def cinc_recording(name: str = "E07501") -> Recording:
    return read_recording(cinc_record(name))


def cinc_as_dicom(folder: Path, name: str = "E07501") -> Path:
    """A real CinC record written as a DICOM 12-lead waveform file by ingest's own writer."""
    folder.mkdir(parents=True, exist_ok=True)
    return write_dicom(cinc_recording(name), folder / f"{name}.dcm")


@pytest.fixture
def dicom_file(tmp_path: Path) -> Path:
    return cinc_as_dicom(tmp_path / "files")


@pytest.fixture
def settings(tansu, fresh_postgres_url, unique_name, tmp_path):  # type: ignore[no-untyped-def]
    """Settings of an isolated stack: its own migrated database and topic names (modules may override)."""
    from storage import upgrade
    from tests.e2e.helpers import isolated_settings

    upgrade(fresh_postgres_url)
    return isolated_settings(tansu.bootstrap, fresh_postgres_url, tmp_path / "home", unique_name)


# headless Chromium for the browser tests (Debian chromium + chromium-driver)
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROME_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--window-size=1100,1500",
)  # fmt: skip


def _missing_browser() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).exists() and shutil.which(Path(path).name) is None:
            return f"{path} is missing: install Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
    return None


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    reason = _missing_browser()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM if Path(CHROMIUM).exists() else str(shutil.which("chromium"))
    for flag in (*CHROME_FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    driver_path = CHROMEDRIVER if Path(CHROMEDRIVER).exists() else str(shutil.which("chromedriver"))
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where browser tests keep screenshots and downloads for people to look at: outside the
    repository, ``$ECGSTREAM_TEST_ARTIFACTS`` or else a new temporary folder; printed at the end."""
    chosen = os.environ.get("ECGSTREAM_TEST_ARTIFACTS")
    folder = Path(chosen) if chosen else Path(tempfile.mkdtemp(prefix="ecgstream-artifacts-"))
    folder.mkdir(parents=True, exist_ok=True)
    _ARTIFACTS.append(folder)
    return folder


_ARTIFACTS: list[Path] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for folder in _ARTIFACTS:
        terminalreporter.write_line(f"browser test artifacts (screenshots, report.pdf): {folder}")
