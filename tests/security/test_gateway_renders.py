"""Issue 18, finding 3: report/tracing renders must not starve other people's uploads.

Before the fix renders waited for one lock inside the gateway's shared thread pool: 300 concurrent
PDF requests from one token made another principal's upload take 58.7 s (0.04 s alone). Now renders
run in their own thread, at most RENDER_MAX_PENDING wait or run and RENDER_MAX_PER_PRINCIPAL per
credential; beyond that 429 (per credential) or 503, both with Retry-After, at once.

Real uvicorn, real Tansu broker, real Postgres, a real CinC recording uploaded as DICOM; the burst
is 60 concurrent report.pdf requests from one token while a second token uploads.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from storage import DiagnosisResult, SqlDiagnosisSink, create_engine, upgrade
from tests.e2e.helpers import isolated_settings
from tests.webapp.conftest import api_token, bearer, cinc_as_dicom, serve_gateway

pytestmark = pytest.mark.integration

FORM = {"age": "61", "sex": "M", "height_cm": "181", "weight_kg": "92.5"}
BURST = 60


def _diagnosed(settings, recording_id: str) -> None:  # type: ignore[no-untyped-def]
    """The recording's diagnosis, written through the real SQL sink (a report needs one)."""
    now = datetime.now(UTC)
    result = DiagnosisResult(
        recording_id=recording_id, model_version="cae-test", device_id=None, patient_ref=None,
        statements=[{"code": 22, "description": "Sinus rhythm", "probability": 0.9, "provenance": "model",
                     "evidence": None}],
        probabilities={"22": 0.9}, age=61, sex="M", height_cm=181.0, weight_kg=92.5, sampling_rate_hz=500.0,
        n_samples=5000, acquired_at=None, ingested_at=now, signal_sha256="0" * 64, signal=None, received_at=now,
        diagnosed_at=now, queue_wait_seconds=0.1, preprocess_seconds=0.01, inference_seconds=0.01,
    )  # fmt: skip

    async def write() -> None:
        engine = create_engine(settings.database_url)
        try:
            await SqlDiagnosisSink(engine, hmac_secret=settings.patient_hmac_secret).write_batch([result])
        finally:
            await engine.dispose()

    asyncio.run(write())


@pytest.fixture
def settings(tansu, fresh_postgres_url, unique_name, tmp_path):  # type: ignore[no-untyped-def]
    upgrade(fresh_postgres_url)
    return isolated_settings(tansu.bootstrap, fresh_postgres_url, tmp_path / "home", unique_name)


@pytest.fixture
def base_url(settings) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with serve_gateway(settings, settings.kafka_bootstrap) as url:
        yield url


async def _burst(url: str, token: str, path: str, n: int) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, headers=bearer(token), limits=limits, timeout=600) as client:
        return await asyncio.gather(*(client.get(path) for _ in range(n)))


def test_a_render_burst_is_bounded_and_does_not_starve_uploads(settings, base_url, tmp_path):
    db = settings.database_url
    reader, uploader = api_token(db, "recordings:write", "recordings:read"), api_token(db, "recordings:write")
    dicom = cinc_as_dicom(tmp_path / "files")
    files = [("file", (dicom.name, dicom.read_bytes(), "application/dicom"))]
    with httpx.Client(base_url=base_url, timeout=600) as http:
        recording = http.post("/api/recordings", data=FORM, files=files, headers=bearer(reader)).json()["recording_id"]
        _diagnosed(settings, recording)
        started = time.monotonic()
        alone = http.post("/api/recordings", data=FORM, files=files, headers=bearer(uploader))
        upload_alone = time.monotonic() - started
        assert alone.status_code == 202

        burst: dict[str, list[httpx.Response]] = {}
        path = f"/api/recordings/{recording}/report.pdf"
        thread = threading.Thread(target=lambda: burst.update(done=asyncio.run(_burst(base_url, reader, path, BURST))))
        thread.start()
        time.sleep(1.0)  # the burst is in
        started = time.monotonic()
        during = http.post("/api/recordings", data=FORM, files=files, headers=bearer(uploader))
        upload_during = time.monotonic() - started
        thread.join(600)
    statuses = [response.status_code for response in burst["done"]]
    refused = [response for response in burst["done"] if response.status_code in {429, 503}]
    print(f"\nRENDER-FIGURES upload alone {upload_alone:.2f} s, during {BURST} renders {upload_during:.2f} s; "
          f"renders: {statuses.count(200)} x 200, {statuses.count(429)} x 429, {statuses.count(503)} x 503")  # fmt: skip
    assert during.status_code == 202, during.text
    assert statuses.count(200) >= 1 and set(statuses) <= {200, 429, 503}
    assert len(refused) >= BURST - settings.render_max_pending - 1, "beyond the bound renders are refused, not queued"
    assert all(response.headers.get("retry-after") for response in refused)
    assert upload_during < 5.0
