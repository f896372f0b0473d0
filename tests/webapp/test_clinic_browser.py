"""The clinician's view in headless Chromium on a full local stack (real Tansu broker, Postgres,
a real worker process, the gateway under uvicorn): upload -> verdict, tracing image, report link
that downloads a PDF; the report link is reachable with the keyboard. Screenshots go to the test's
tmp dir (and to ``$ECGSTREAM_SCREENSHOT_DIR`` when set)."""

from __future__ import annotations

import re

import pytest

from ecgstream.stack import LocalStack
from tests.e2e.helpers import isolated_settings
from tests.webapp.conftest import cinc_as_dicom, login_user, serve_gateway
from tests.webapp.test_gateway_browser import _fill_form, _screenshot, _sign_in

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

VERDICT = re.compile(r"^(Normal ECG|Abnormal ECG: \d+ statements?, most important: .+|Unreadable: .+|No statement asserted: .+)$")
FETCH_PDF = """
const done = arguments[arguments.length - 1];
fetch(arguments[0]).then(async (r) => {
  const bytes = new Uint8Array(await r.arrayBuffer());
  done({status: r.status, type: r.headers.get("content-type"),
        disposition: r.headers.get("content-disposition"), size: bytes.length,
        magic: String.fromCharCode(...bytes.slice(0, 5))});
}).catch((e) => done({error: String(e)}));
"""


def test_result_shows_verdict_tracing_and_a_downloadable_report(
    browser, tansu, fresh_postgres_url, unique_name, tmp_path
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    dicom = cinc_as_dicom(tmp_path / "upload", "E07501")
    settings = isolated_settings(tansu.bootstrap, fresh_postgres_url, tmp_path / "home", unique_name)
    with LocalStack(settings, workers=1) as stack:
        login_user(fresh_postgres_url, "doctor", "a long enough password")
        with serve_gateway(settings, stack.bootstrap) as url:
            stack.wait_ready()
            driver = browser
            _sign_in(driver, url, "doctor", "a long enough password")
            _fill_form(driver, [dicom])
            WebDriverWait(driver, 150).until(ec.visibility_of_element_located((By.ID, "result")))

            verdict = driver.find_element(By.ID, "verdict").text
            assert VERDICT.match(verdict), verdict
            image = driver.find_element(By.ID, "tracing")
            assert image.get_attribute("src").endswith("/tracing.svg")
            WebDriverWait(driver, 60).until(lambda d: d.execute_script(
                "const i = document.getElementById('tracing'); return i.complete && i.naturalWidth > 0;"))  # fmt: skip
            assert image.size["width"] > 600, "the tracing is readable on a laptop screen"
            assert "12-lead ECG tracing" in image.get_attribute("alt")

            link = driver.find_element(By.ID, "report-link")
            assert link.is_displayed() and link.get_attribute("href").endswith("/report.pdf")
            pdf = driver.execute_async_script(FETCH_PDF, link.get_attribute("href"))  # with the session cookie
            assert pdf["status"] == 200 and pdf["type"] == "application/pdf" and pdf["magic"] == "%PDF-", pdf
            assert pdf["disposition"].startswith("attachment;") and pdf["size"] > 20_000

            driver.execute_script("document.getElementById('submit').focus()")  # from the form's button, Tab on
            reached = []
            for _ in range(40):
                driver.switch_to.active_element.send_keys(Keys.TAB)
                reached.append(driver.switch_to.active_element.get_attribute("id"))
                if reached[-1] == "report-link":
                    break
            assert "report-link" in reached, f"the report link is not reachable by Tab: {reached}"
            _screenshot(driver, tmp_path / "clinic-result.png")
