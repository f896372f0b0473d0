"""Gateway fixtures: the app served by a real uvicorn on a free loopback port, ECG files to upload."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ecgstream.config import Settings
from ecgstream.embedded import free_port
from ingest import read_recording
from ingest.gateway import create_app
from ingest.writers import write_dicom
from schemas import Recording
from tests.conftest import shared_data_dir


@contextmanager
def serve_gateway(settings: Settings, bootstrap: str, **app_options: object) -> Iterator[str]:
    """Run ``create_app`` under uvicorn in a thread; yields the base URL, stops on exit."""
    import uvicorn

    app = create_app(settings, bootstrap, **app_options)  # type: ignore[arg-type]
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on"))
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
