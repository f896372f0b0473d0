"""Finding 1 at the gateway: parallel hostile uploads get a clear 4xx in bounded memory; it keeps serving.

The gateway runs under a real uvicorn in this process, so its peak RSS is this process's: the peak
is reset (``/proc/self/clear_refs``) before the uploads and read (``VmHWM``) after them. Before the
fix the readers ran in the gateway's thread pool and these files took it to 5.5 GB (HDF5 array
dtype), 2.9 GB (deflated DICOM) and 0.7 GB (WFDB FLAC).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from storage import upgrade
from tests.e2e.helpers import isolated_settings
from tests.security import hostile_files as hostile
from tests.webapp.conftest import api_token, serve_gateway

pytestmark = pytest.mark.integration

FORM = {"age": "61", "sex": "F", "height_cm": "164", "weight_kg": "70"}
GATEWAY_EXTRA_RSS_BOUND = 200 * 1024 * 1024


def _vm_hwm_bytes() -> int:
    with open("/proc/self/status") as handle:
        return int(next(line for line in handle if line.startswith("VmHWM:")).split()[1]) * 1024


def _reset_peak_rss() -> None:
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")


def _upload(http: httpx.Client, *paths: Path) -> httpx.Response:
    files = [("file", (path.name, path.read_bytes(), "application/octet-stream")) for path in paths]
    return http.post("/api/recordings", data=FORM, files=files)


def test_hostile_uploads_get_4xx_in_bounded_gateway_memory(tansu, fresh_postgres_url, unique_name, tmp_path):
    upgrade(fresh_postgres_url)
    settings = isolated_settings(tansu.bootstrap, fresh_postgres_url, tmp_path / "home", unique_name)
    wfdb = hostile.wfdb_flac_bomb(tmp_path / "wfdb")
    uploads = {
        "h5_array_dtype": ((hostile.h5_array_dtype_bomb(tmp_path / "array.h5"),), 415, "unreadable"),
        "h5_external_link": ((hostile.h5_external_link(tmp_path / "link.h5", tmp_path / "server.h5"),), 422,
                             "forbidden_content"),
        "wfdb_flac": ((wfdb, wfdb.with_suffix(".dat")), 415, "unreadable"),
        "dicom_deflate": ((hostile.dicom_deflate_bomb(tmp_path / "deflate.dcm"),), 422, "decode_limit_exceeded"),
    }  # fmt: skip
    with serve_gateway(settings, tansu.bootstrap) as url, httpx.Client(
        base_url=url, timeout=60, headers={"Authorization": f"Bearer {api_token(fresh_postgres_url, 'admin')}"}
    ) as http:
        _reset_peak_rss()
        start = _vm_hwm_bytes()
        with ThreadPoolExecutor(len(uploads) * 2) as pool:  # in parallel, each twice: the gateway's thread pool
            futures = {name: [pool.submit(_upload, http, *paths) for _ in range(2)]
                       for name, (paths, _, _) in uploads.items()}  # fmt: skip
            answers = {name: [f.result() for f in pair] for name, pair in futures.items()}
        peak = _vm_hwm_bytes()
        health = http.get("/healthz")
    print(f"\nGATEWAY-BOMB-FIGURES gateway peak RSS {start / 2**20:.0f} MiB before, {peak / 2**20:.0f} MiB after")
    for name, (_, status, reason) in uploads.items():
        for answer in answers[name]:
            assert (answer.status_code, answer.json()["error"]["reason"]) == (status, reason), name
    assert health.status_code == 200, "the gateway keeps serving"
    assert peak - start < GATEWAY_EXTRA_RSS_BOUND


def test_a_parser_stopped_by_its_memory_limit_gives_422_too_complex(tansu, fresh_postgres_url, unique_name,
                                                                    tmp_path):  # fmt: skip
    """With a parser memory limit below what the reader's own bounds admit, the child hits RLIMIT_AS."""
    upgrade(fresh_postgres_url)
    settings = isolated_settings(tansu.bootstrap, fresh_postgres_url, tmp_path / "home", unique_name,
                                 parse_memory_bytes=32 * 1024 * 1024)  # fmt: skip
    bomb = hostile.dicom_deflate_bomb(tmp_path / "deflate.dcm")
    with serve_gateway(settings, tansu.bootstrap) as url, httpx.Client(
        base_url=url, timeout=60, headers={"Authorization": f"Bearer {api_token(fresh_postgres_url, 'admin')}"}
    ) as http:
        answer = _upload(http, bomb)
        health = http.get("/healthz")
    error = answer.json()["error"]
    assert (answer.status_code, error["reason"]) == (422, "too_complex")
    assert "file too complex to decode within limits" in error["message"]
    assert health.status_code == 200


def test_an_upload_that_finds_every_parser_busy_gets_503_with_retry_after(tansu, fresh_postgres_url, unique_name,
                                                                           tmp_path):  # fmt: skip
    """Issue 18, finding 2 at the gateway: PARSE_CONCURRENCY bounds the parser processes of the whole
    gateway process; an upload that waits PARSE_TIMEOUT_SECONDS for a place is told to come back."""
    import os
    import threading

    from ingest.sandbox import SandboxLimits, read_isolated_measured
    from schemas.errors import InvalidRecording
    from tests.webapp.conftest import cinc_as_dicom

    upgrade(fresh_postgres_url)
    settings = isolated_settings(tansu.bootstrap, fresh_postgres_url, tmp_path / "home", unique_name,
                                 parse_concurrency=1, parse_timeout_seconds=1.0)  # fmt: skip
    dicom = cinc_as_dicom(tmp_path / "files")
    fifo = tmp_path / "stuck.xml"
    os.mkfifo(fifo)

    def hold_the_only_place() -> None:  # a parser of this same process, blocked on a FIFO for 4 s
        with pytest.raises(InvalidRecording):
            read_isolated_measured(fifo, limits=SandboxLimits(seconds=4.0, concurrency=1))

    with serve_gateway(settings, tansu.bootstrap) as url, httpx.Client(
        base_url=url, timeout=60, headers={"Authorization": f"Bearer {api_token(fresh_postgres_url, 'admin')}"}
    ) as http:
        holder = threading.Thread(target=hold_the_only_place)
        holder.start()
        time.sleep(0.5)
        busy = _upload(http, dicom)
        holder.join()
        accepted = _upload(http, dicom)
    assert busy.status_code == 503 and busy.json()["error"]["reason"] == "parsers_busy", busy.text
    assert busy.headers["retry-after"] == "5"
    assert accepted.status_code == 202, accepted.text
