"""End to end in headless Chromium: the upload page on a full local stack.

Real Tansu broker, real Postgres, a real worker process, the gateway under uvicorn; selenium drives
Debian's chromium + chromium-driver. Screenshots go to the test's tmp dir.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.request
from pathlib import Path

import pytest

from ecgstream.stack import LocalStack
from ingest.writers import write_dicom
from tests.e2e.helpers import isolated_settings
from tests.stream_processor.records import leads_off_recording
from tests.webapp.conftest import (
    api_token,
    cinc_as_dicom,
    cinc_record,
    cinc_recording,
    login_user,
    serve_gateway,
)

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

def _fill_form(
    driver, files: list[Path], *, age: str = "65", sex: str = "M", height: str = "178", weight: str = "82"
):
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, "file").send_keys("\n".join(str(path) for path in files))
    for field, value in (("age", age), ("height_cm", height), ("weight_kg", weight)):
        box = driver.find_element(By.ID, field)
        box.clear()
        box.send_keys(value)
    driver.find_element(By.CSS_SELECTOR, f'input[name="sex"][value="{sex}"]').click()
    driver.find_element(By.ID, "submit").click()


def _sign_in(driver, url: str, username: str, password: str) -> None:
    """Open the page: it sends a signed-out browser to /login; sign in there and land on the page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url + "/")
    assert driver.current_url.endswith("/login")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login-submit").click()
    WebDriverWait(driver, 30).until(ec.visibility_of_element_located((By.ID, "upload-form")))
    assert driver.find_element(By.ID, "signed-in-user").text == username


def _screenshot(driver, path: Path) -> Path:
    """A full-page PNG (the window grown to the page's height first), also copied to
    ``$ECGSTREAM_SCREENSHOT_DIR`` when set (CI keeps them as artifacts)."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1100, max(900, int(height) + 40))
    driver.save_screenshot(str(path))
    if os.environ.get("ECGSTREAM_SCREENSHOT_DIR"):
        keep = Path(os.environ["ECGSTREAM_SCREENSHOT_DIR"])
        keep.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, keep / path.name)
    return path


def test_upload_a_real_record_and_read_its_diagnosis(
    browser, tansu, fresh_postgres_url, unique_name, tmp_path
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    dicom = cinc_as_dicom(tmp_path / "upload", "E07501")
    unreadable_dicom = write_dicom(leads_off_recording(cinc_recording("E07501")), tmp_path / "upload" / "off.dcm")
    garbage = tmp_path / "upload" / "x.dcm"
    garbage.write_bytes(b"this is not an ECG at all, just some bytes\n" * 50)
    settings = isolated_settings(tansu.bootstrap, fresh_postgres_url, tmp_path / "home", unique_name)

    with LocalStack(settings, workers=1) as stack:
        login_user(fresh_postgres_url, "nurse", "a long enough password")
        with serve_gateway(settings, stack.bootstrap) as url:
            stack.wait_ready()
            driver = browser
            _sign_in(driver, url, "nurse", "a long enough password")
            driver.get(url + "/")
            assert "not a medical device" in driver.find_element(By.CSS_SELECTOR, ".notice").text

            _fill_form(driver, [dicom])
            WebDriverWait(driver, 150).until(ec.visibility_of_element_located((By.ID, "result")))
            rows = driver.find_elements(By.CSS_SELECTOR, "#statements tr")
            version = driver.find_element(By.ID, "model-version").text
            status = driver.find_element(By.ID, "status").text
            latency = driver.find_element(By.ID, "latency").text
            assert version, "the model version is shown"
            assert status.startswith("Diagnosis ready")
            assert latency and latency != "n/a"
            assert rows, "at least one statement with code, name, provenance and probability"
            for row in rows:
                code, name, decided, probability = (cell.text for cell in row.find_elements(By.TAG_NAME, "td"))
                provenance = row.get_attribute("data-provenance")
                assert code.isdigit() and name
                assert decided == {"measurement": "Measurement", "model": "Model",
                                   "both": "Measurement + model"}[provenance]  # fmt: skip
                assert probability.endswith("%") or (provenance == "measurement" and probability == "\u2014")
            # the measurements block: a real sinus record has a measured heart rate, QRS and axis
            assert driver.find_element(By.ID, "measurements").is_displayed()
            heart_rate = driver.find_element(By.ID, "m-heart_rate_bpm").text
            assert heart_rate.endswith(" bpm") and 30 <= int(heart_rate.split()[0]) <= 200
            for key in ("pr_ms", "qrs_ms", "qt_ms", "qtc_bazett_ms", "qrs_axis_deg"):
                text = driver.find_element(By.ID, f"m-{key}").text
                assert text.endswith(("ms", "\u00b0")) or text.startswith("not measured"), (key, text)
            assert driver.find_element(By.ID, "m-qrs_ms").text.endswith(" ms")
            # per-lead quality: 12 leads listed, none unreadable on this clean record
            assert driver.find_element(By.ID, "quality").is_displayed()
            leads = driver.find_elements(By.CSS_SELECTOR, "#quality-leads li")
            assert [li.get_attribute("data-lead") for li in leads][:3] == ["I", "II", "III"] and len(leads) == 12
            assert driver.find_element(By.ID, "quality-verdict").text in {"good", "acceptable"}
            assert not driver.find_element(By.ID, "unreadable").is_displayed()
            # the JSON API returns what the page shows
            recording_id = driver.find_element(By.ID, "recording-id").text
            reader = api_token(fresh_postgres_url, "results:read:all")  # an integration reading any result
            request = urllib.request.Request(f"{url}/api/recordings/{recording_id}",
                                             headers={"Authorization": f"Bearer {reader}"})  # fmt: skip
            api = json.loads(urllib.request.urlopen(request, timeout=10).read())
            assert api["readable"] is True
            assert abs(api["measurements"]["heart_rate_bpm"] - int(heart_rate.split()[0])) <= 0.5
            assert [s["provenance"] for s in api["statements"]] == [r.get_attribute("data-provenance") for r in rows]
            assert [q["lead"] for q in api["quality"]["leads"]] == [li.get_attribute("data-lead") for li in leads]
            assert "?recording=" in driver.current_url
            result_png = _screenshot(driver, tmp_path / "gateway-result.png")

            driver.get(url + "/")  # a recording with four electrodes off: unreadable, reasons, bad leads marked
            _fill_form(driver, [unreadable_dicom])
            WebDriverWait(driver, 150).until(ec.visibility_of_element_located((By.ID, "unreadable")))
            assert driver.find_element(By.ID, "status").text.startswith("Recording unreadable")
            assert driver.find_element(By.ID, "unreadable-reasons").text
            assert not driver.find_element(By.ID, "statements-table").is_displayed()
            marked = driver.find_elements(By.CSS_SELECTOR, "#quality-leads li.unreadable")
            assert {"V1", "V2", "V3", "V4"} <= {li.get_attribute("data-lead") for li in marked}
            unreadable_png = _screenshot(driver, tmp_path / "gateway-unreadable.png")

            driver.get(url + "/")  # a WFDB record is two files, selected together
            _fill_form(driver, [cinc_record("E07506"), cinc_record("E07506").with_suffix(".mat")], sex="F")
            WebDriverWait(driver, 150).until(ec.visibility_of_element_located((By.ID, "result")))
            assert driver.find_element(By.ID, "model-version").text == version

            driver.get(url + "/")
            _fill_form(driver, [garbage])
            alert = WebDriverWait(driver, 30).until(ec.visibility_of_element_located((By.ID, "error")))
            assert "cannot be read as an ECG" in alert.text and "x.dcm" in alert.text
            assert driver.find_element(By.ID, "file").get_attribute("aria-invalid") == "true"
            error_png = _screenshot(driver, tmp_path / "gateway-garbage.png")

            driver.get(url + "/")
            _fill_form(driver, [dicom], age="130")
            message = WebDriverWait(driver, 30).until(ec.visibility_of_element_located((By.ID, "age-error")))
            assert "between 0 and 120" in message.text

    assert result_png.stat().st_size > 10_000 and error_png.stat().st_size > 10_000
    assert unreadable_png.stat().st_size > 10_000
    print(f"screenshots: {result_png} {unreadable_png} {error_png}")
