"""Physician overread in headless Chromium: a signed-in reader with results:confirm opens the worklist,
opens the critical ECG on it, confirms the computer interpretation, then edits it (removes a statement,
adds a statement and a modifier qualifying it, free text); the worklist empties and the audit trail on
the result page shows both actions. Real Tansu broker and Postgres, the gateway under uvicorn; the
diagnoses and kept samples are written through the real sink and tracing store (as in
test_clinic_api), so the test decides which ECG is critical. Screenshots go to the artifacts folder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage import DiagnosisResult
from storage.principals import record_owner
from storage.tracings import store_tracing
from tests.webapp.conftest import cinc_recording, login_user, serve_gateway, write_diagnoses
from tests.webapp.test_gateway_browser import _screenshot, _sign_in

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

PASSWORD = "a long enough password"
BLOCK = [
    {"code": 88, "description": "AV block, complete (third-degree)", "probability": 0.9, "provenance": "model"},
    {"code": 22, "description": "Sinus bradycardia", "probability": 0.7, "provenance": "both"},
]  # fmt: skip


@pytest.fixture
def settings(tansu, fresh_postgres_url, unique_name, tmp_path):  # type: ignore[no-untyped-def]
    from storage import upgrade
    from tests.e2e.helpers import isolated_settings

    upgrade(fresh_postgres_url)
    return isolated_settings(tansu.bootstrap, fresh_postgres_url, tmp_path / "home", unique_name,
                             overreads_topic=f"overreads-{unique_name}")  # fmt: skip


def _diagnosed(settings, recording_id: str) -> None:  # type: ignore[no-untyped-def]
    rec = cinc_recording()
    now = datetime.now(UTC)
    result = DiagnosisResult(
        recording_id=recording_id, model_version="cae-test", device_id=None, patient_ref="MRN-55",
        statements=BLOCK, probabilities={"88": 0.9, "22": 0.7}, age=74, sex="M", height_cm=175.0, weight_kg=80.0,
        sampling_rate_hz=rec.fs, n_samples=rec.n_samples, acquired_at=now - timedelta(minutes=5), ingested_at=now,
        signal_sha256="0" * 64, signal=None, received_at=now, diagnosed_at=now + timedelta(seconds=1),
        queue_wait_seconds=0.1, preprocess_seconds=0.01, inference_seconds=0.01,
        measurements={"heart_rate_bpm": 36.0, "qrs_ms": 120.0, "beats": {"N": 6}},
    )  # fmt: skip

    async def keep(engine) -> None:  # type: ignore[no-untyped-def]
        await store_tracing(engine, recording_id, rec.signal, rec.fs, tuple(rec.leads))
        await record_owner(engine, recording_id, "user:physician")

    write_diagnoses(settings, result, after=keep)


def test_a_reader_confirms_then_edits_and_the_worklist_empties(browser, settings, artifacts_dir):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    rid = "ovr-browser-1"
    _diagnosed(settings, rid)
    login_user(settings.database_url, "physician", PASSWORD, "recordings:read", "results:read:all", "results:confirm")
    driver = browser
    wait = WebDriverWait(driver, 60)
    with serve_gateway(settings, settings.kafka_bootstrap) as url:
        _sign_in(driver, url, "physician", PASSWORD)
        driver.find_element(By.ID, "nav-worklist").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#worklist-rows tr"))
        (row,) = driver.find_elements(By.CSS_SELECTOR, "#worklist-rows tr")
        assert row.get_attribute("data-recording-id") == rid and row.get_attribute("data-critical") == "true"
        assert "Critical: Complete heart block" in row.text
        _screenshot(driver, artifacts_dir / "overread-worklist.png")

        row.find_element(By.CSS_SELECTOR, "a.open-result").click()
        status = wait.until(ec.visibility_of_element_located((By.ID, "overread-status")))
        wait.until(lambda d: status.text.startswith("Unconfirmed"))
        driver.find_element(By.ID, "overread-confirm").click()
        wait.until(lambda d: status.text.startswith("Confirmed by physician") and "(version 1)" in status.text)

        driver.find_element(By.ID, "overread-edit").click()
        editor = wait.until(ec.visibility_of_element_located((By.ID, "overread-editor")))
        editor.find_element(By.CSS_SELECTOR, '#overread-statements li[data-code="22"] button').click()
        codes = Select(driver.find_element(By.ID, "overread-add-code"))
        codes.select_by_value("147")
        driver.find_element(By.ID, "overread-add").click()
        codes.select_by_value("367")
        Select(driver.find_element(By.ID, "overread-add-modifies")).select_by_value("147")
        driver.find_element(By.ID, "overread-add").click()
        drafted = [li.get_attribute("data-code") for li in driver.find_elements(By.CSS_SELECTOR, "#overread-statements li")]
        assert drafted == ["88", "147", "367"]
        driver.find_element(By.ID, "overread-free-text").send_keys("Junctional escape 36/min.")
        driver.find_element(By.ID, "overread-save").click()
        wait.until(lambda d: "(version 2)" in status.text)
        assert status.text.startswith("Confirmed by physician")
        confirmed = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#overread-confirmed-statements li")]
        assert confirmed == ["88 AV block, complete (third-degree)", "147 T-wave abnormality",
                             "367 Inversion (qualifies 147)"]  # fmt: skip
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#overread-trail li[data-version]")) == 2)
        trail = driver.find_elements(By.CSS_SELECTOR, "#overread-trail li[data-version]")
        assert [li.get_attribute("data-action") for li in trail] == ["confirm", "edit"]
        assert "by physician" in trail[0].text and "Junctional escape 36/min." in trail[1].text
        _screenshot(driver, artifacts_dir / "overread-result.png")

        driver.find_element(By.ID, "nav-worklist").click()
        empty = wait.until(ec.visibility_of_element_located((By.ID, "worklist-status")))
        wait.until(lambda d: empty.text == "Nothing awaits overread.")
        assert driver.find_elements(By.CSS_SELECTOR, "#worklist-rows tr") == []
