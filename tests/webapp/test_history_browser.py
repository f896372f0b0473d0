"""History, patient history, serial comparison and the report in headless Chromium, on a full local
stack (real Tansu broker, Postgres, a real worker process, the gateway under uvicorn).

One stack serves the module. Screenshots and the downloaded report go to ``artifacts_dir``
(``$ECGSTREAM_TEST_ARTIFACTS``, else a fresh temporary folder; the path is printed): the result with
its tracing, the comparison with both tracings side by side, the history list, a patient's history
and the PDF report's first page as Chromium's viewer shows it.
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from ecgstream.stack import LocalStack
from tests.e2e.helpers import isolated_settings
from tests.webapp.conftest import api_token, bearer, cinc_as_dicom, login_user, serve_gateway
from tests.webapp.test_gateway_browser import _fill_form, _sign_in

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

USER, PASSWORD = "cardiologist", "a long enough password"
PAIR_REF = "MRN-PAIR-0001"
FETCH_PDF = """
const done = arguments[arguments.length - 1];
fetch(arguments[0]).then(async (r) => {
  const bytes = new Uint8Array(await r.arrayBuffer());
  let text = "";
  for (let i = 0; i < bytes.length; i += 8192) text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  done({status: r.status, type: r.headers.get("content-type"), base64: btoa(text)});
}).catch((e) => done({error: String(e)}));
"""
# WCAG 2.x contrast of every visible text element against the first opaque background behind it
CONTRAST = """
function rgba(text) { const m = text.match(/[\\d.]+/g).map(Number); return m.length === 3 ? [...m, 1] : m; }
function luminance([r, g, b]) {
  const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
}
function background(el) {
  for (let e = el; e; e = e.parentElement) {
    const c = rgba(getComputedStyle(e).backgroundColor);
    if (c[3] > 0.5) return c;
  }
  return [255, 255, 255, 1];
}
const out = [];
for (const el of document.querySelectorAll(arguments[0])) {
  const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
  if (!own || el.closest("[hidden]") || el.disabled || !el.getClientRects().length) continue;
  const fg = luminance(rgba(getComputedStyle(el).color)), bg = luminance(background(el));
  const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
  out.push({selector: el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className ? "." + el.className : ""),
            text: el.textContent.trim().slice(0, 40), ratio: Math.round(ratio * 100) / 100});
}
return out;
"""
TEXT_STYLES = "h1, h2, h3, h4, p, label, legend, th, td, dt, dd, li, a, button, summary, span, strong, div, figcaption, caption, option"


@dataclass(frozen=True)
class Stack:
    url: str
    pair: tuple[str, str]  # two diagnosed recordings of one patient (PAIR_REF), earlier first


def _wait_done(http: httpx.Client, token: str, recording_id: str, timeout: float = 180.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = http.get(f"/api/recordings/{recording_id}", headers=bearer(token)).json()
        if body.get("status") == "done":
            return dict(body)
        time.sleep(0.5)
    raise AssertionError(f"{recording_id} was not diagnosed within {timeout} s")


@pytest.fixture(scope="module")
def stack(tansu, postgres_url, tmp_path_factory) -> Iterator[Stack]:  # type: ignore[no-untyped-def]
    """A fresh database, one worker and the gateway; a reader user; two uploads of one patient."""
    from tests.conftest import _admin_execute

    name = f"ecgs_{uuid.uuid4().hex[:12]}"
    database_url = f"{postgres_url.rpartition('/')[0]}/{name}"
    asyncio.run(_admin_execute(postgres_url, f'CREATE DATABASE "{name}"'))
    home = tmp_path_factory.mktemp("history-browser")
    settings = isolated_settings(tansu.bootstrap, database_url, home / "home", uuid.uuid4().hex[:10])
    try:
        with LocalStack(settings, workers=1) as local:
            login_user(database_url, USER, PASSWORD, "recordings:write", "results:read:all")
            cart = api_token(database_url, "recordings:write", "recordings:read")
            with serve_gateway(settings, local.bootstrap) as url:
                local.wait_ready()
                pair = []
                with httpx.Client(base_url=url, timeout=60) as http:
                    for record in ("E07501", "E07506"):
                        dicom = cinc_as_dicom(home / "pair", record)
                        form = {"age": "58", "sex": "F", "height_cm": "165", "weight_kg": "70", "patient_ref": PAIR_REF}
                        response = http.post("/api/recordings", data=form, headers=bearer(cart),
                                             files=[("file", (dicom.name, dicom.read_bytes(), "application/dicom"))])  # fmt: skip
                        assert response.status_code == 202, response.text
                        pair.append(response.json()["recording_id"])
                        _wait_done(http, cart, pair[-1])  # in order: the second is the later one
                yield Stack(url, (pair[0], pair[1]))
    finally:
        asyncio.run(_admin_execute(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _shot(driver, folder: Path, name: str) -> Path:  # type: ignore[no-untyped-def]
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1100, max(900, int(height) + 40))
    driver.execute_script("window.scrollTo(0, 0)")
    path = folder / name
    driver.save_screenshot(str(path))
    assert path.stat().st_size > 10_000, f"{path} looks empty"
    return path


def _wait(driver, condition, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # a list being redrawn detaches the rows a condition is reading: try again
    ignored = (NoSuchElementException, StaleElementReferenceException)
    return WebDriverWait(driver, timeout, ignored_exceptions=ignored).until(condition)


def _rows(driver) -> list[str]:  # type: ignore[no-untyped-def]
    """The recording ids of the history table, top to bottom."""
    from selenium.webdriver.common.by import By

    return [r.get_attribute("data-recording-id") for r in driver.find_elements(By.CSS_SELECTOR, "#history-rows tr")]


def _image_loaded(element_id: str):  # type: ignore[no-untyped-def]
    script = f"const i = document.getElementById('{element_id}'); return !!i && i.complete && i.naturalWidth > 0;"
    return lambda d: d.execute_script(script)


def _upload_in_page(driver, dicom: Path, patient_ref: str) -> str:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    driver.find_element(By.CSS_SELECTOR, "details.optional summary").click()
    box = driver.find_element(By.ID, "patient_ref")
    box.clear()
    box.send_keys(patient_ref)
    _fill_form(driver, [dicom])
    _wait(driver, lambda d: "recording=" in d.current_url)
    recording_id = driver.current_url.split("recording=")[1]
    _wait(driver, lambda d: d.find_element(By.ID, "status").text.startswith(("Diagnosis ready", "Recording unreadable")), 180)
    assert driver.find_element(By.ID, "recording-id").text == recording_id
    _wait(driver, _image_loaded("tracing"))
    return recording_id


def test_upload_result_history_comparison_and_report(stack: Stack, browser, artifacts_dir: Path, tmp_path: Path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver, patient_ref = browser, f"MRN-{uuid.uuid4().hex[:8]}"
    _sign_in(driver, stack.url, USER, PASSWORD)

    # upload -> result with tracing (first recording of this patient: nothing to compare with)
    first = _upload_in_page(driver, cinc_as_dicom(tmp_path / "a", "E07509"), patient_ref)
    assert driver.find_element(By.ID, "verdict").text
    assert driver.find_element(By.ID, "comparison").get_attribute("hidden") is not None
    _shot(driver, artifacts_dir, "01-result-with-tracing.png")

    # a second recording of the same patient: what changed, then both tracings side by side
    driver.get(stack.url + "/")
    second = _upload_in_page(driver, cinc_as_dicom(tmp_path / "b", "E07512"), patient_ref)
    _wait(driver, lambda d: d.find_element(By.ID, "comparison").is_displayed())
    summary = driver.find_element(By.ID, "comparison-summary").text
    assert summary.startswith("Earlier recording of ") and "UTC" in summary
    changes = driver.find_elements(By.CSS_SELECTOR, "#measurement-changes tr")
    assert [row.get_attribute("data-key") for row in changes][:3] == ["heart_rate_bpm", "pr_ms", "qrs_ms"]
    assert driver.find_elements(By.CSS_SELECTOR, "#new-statements li, #resolved-statements li")
    heart_rate = changes[0].find_elements(By.TAG_NAME, "td")
    assert heart_rate[0].text == "Heart rate" and heart_rate[1].text.endswith("bpm") and heart_rate[2].text.endswith("bpm")
    toggle = driver.find_element(By.ID, "side-by-side")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not driver.find_element(By.ID, "previous-tracing").get_attribute("src")  # loaded only on demand
    toggle.click()
    _wait(driver, _image_loaded("previous-tracing"))
    _wait(driver, _image_loaded("current-tracing"))
    assert driver.find_element(By.ID, "previous-tracing").get_attribute("src").endswith(f"/api/recordings/{first}/tracing.svg")
    assert driver.find_element(By.ID, "current-tracing").get_attribute("src").endswith(f"/api/recordings/{second}/tracing.svg")
    assert toggle.get_attribute("aria-expanded") == "true"
    _shot(driver, artifacts_dir, "02-comparison-side-by-side.png")

    # history: newest first, a filter, each row opens its result
    driver.find_element(By.ID, "nav-history").click()
    _wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#history-rows tr")) >= 4)
    listed = _rows(driver)
    assert listed[:2] == [second, first] and set(stack.pair) <= set(listed)
    _shot(driver, artifacts_dir, "03-history.png")
    status = driver.find_element(By.CSS_SELECTOR, "#history-rows tr").get_attribute("data-status")
    Select(driver.find_element(By.ID, "f-status")).select_by_value(status)
    driver.find_element(By.ID, "apply-filters").click()
    _wait(driver, lambda d: "status=" + status in d.current_url)
    filtered = _wait(driver, lambda d: _rows(d) if all(r.get_attribute("data-status") == status
                                                       for r in d.find_elements(By.CSS_SELECTOR, "#history-rows tr")) else None)  # fmt: skip
    assert second in filtered

    # patient history: the reference goes in a POST body, never the address bar
    Select(driver.find_element(By.ID, "f-status")).select_by_value("")
    driver.find_element(By.ID, "patient-ref").send_keys(patient_ref)
    driver.find_element(By.ID, "patient-submit").click()
    _wait(driver, lambda d: d.find_element(By.ID, "list-title").text == "This patient's recordings")
    _wait(driver, lambda d: _rows(d) == [second, first])
    assert patient_ref not in driver.current_url
    _shot(driver, artifacts_dir, "04-patient-history.png")
    driver.find_elements(By.CSS_SELECTOR, "#history-rows a.open-result")[1].click()
    _wait(driver, lambda d: d.find_element(By.ID, "recording-id").text == first, 60)

    # the PDF report, downloaded with the session and shown in Chromium's own viewer
    _wait(driver, lambda d: d.find_element(By.ID, "report-link").is_displayed())
    pdf = driver.execute_async_script(FETCH_PDF, driver.find_element(By.ID, "report-link").get_attribute("href"))
    assert pdf.get("status") == 200 and pdf["type"] == "application/pdf", pdf.get("error")
    report = artifacts_dir / "report.pdf"
    report.write_bytes(base64.b64decode(pdf["base64"]))
    assert report.read_bytes().startswith(b"%PDF-") and patient_ref.encode() not in report.read_bytes()
    driver.set_window_size(1100, 900)
    driver.get(report.as_uri())
    time.sleep(2)  # the viewer paints after load; nothing to wait on from outside its shadow DOM
    _shot(driver, artifacts_dir, "05-report-pdf.png")


def _tab_through(driver, stop_id: str, limit: int = 60) -> list[str]:  # type: ignore[no-untyped-def]
    """Ids of the elements Tab focuses, from the top of the page, until ``stop_id`` (or ``limit`` presses)."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    driver.execute_script("document.activeElement && document.activeElement.blur(); window.focus();")
    reached: list[str] = []
    for _ in range(limit):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        focused = driver.switch_to.active_element
        ident = focused.get_attribute("id") or focused.get_attribute("class") or focused.tag_name
        if not reached or reached[-1] != ident:
            reached.append(ident)
        if ident == stop_id:
            break
    return reached


def test_keyboard_reaches_and_operates_the_main_controls(stack: Stack, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver = browser
    _sign_in(driver, stack.url, USER, PASSWORD)
    driver.get(stack.url + "/history")
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#history-rows tr"))
    reached = _tab_through(driver, "open-result")
    expected = ["nav-upload", "nav-history", "logout", "f-status", "f-statement", "f-since", "f-until", "apply-filters",
                "patient-ref", "patient-submit", "open-result"]  # fmt: skip
    assert [ident for ident in reached if ident in expected] == expected, reached

    # Enter on a focused control works: the filter button, then a row's link opens the result
    driver.find_element(By.ID, "f-statement").send_keys("999")
    driver.find_element(By.ID, "apply-filters").send_keys(Keys.ENTER)
    _wait(driver, lambda d: d.find_element(By.ID, "list-status").text == "No recordings match.")
    driver.get(f"{stack.url}/?recording={stack.pair[1]}")
    _wait(driver, lambda d: d.find_element(By.ID, "comparison").is_displayed(), 60)
    reached = _tab_through(driver, "side-by-side", limit=80)
    assert reached[-1] == "side-by-side" and "report-link" in reached, reached
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    _wait(driver, _image_loaded("previous-tracing"))
    assert driver.find_element(By.ID, "side-by-side").get_attribute("aria-expanded") == "true"
    driver.switch_to.active_element.send_keys(Keys.SPACE)
    _wait(driver, lambda d: not d.find_element(By.ID, "side-by-side-view").is_displayed())


def test_text_contrast_meets_wcag_aa(stack: Stack, browser):
    from selenium.webdriver.common.by import By

    driver = browser
    _sign_in(driver, stack.url, USER, PASSWORD)
    pages = {
        "result": (f"{stack.url}/?recording={stack.pair[1]}", lambda d: d.find_element(By.ID, "comparison").is_displayed()),
        "history": (f"{stack.url}/history", lambda d: d.find_elements(By.CSS_SELECTOR, "#history-rows tr")),
    }
    checked = 0
    for name, (url, ready) in pages.items():
        driver.get(url)
        _wait(driver, ready)
        if name == "result":
            driver.find_element(By.ID, "side-by-side").click()
        measured = driver.execute_script(CONTRAST, TEXT_STYLES)
        low = [item for item in measured if item["ratio"] < 4.5]
        assert not low, f"{name}: text below 4.5:1: {low}"
        selectors = {item["selector"].split(".")[0].split("#")[0] for item in measured}
        assert {"h1", "h2", "button", "a", "th", "td"} <= selectors, f"{name}: main text styles measured: {selectors}"
        checked += len(measured)
    assert checked > 40
    # the measurement itself tells a too-light grey (#777 on white is 4.48:1) from black (21:1)
    driver.execute_script("""
        for (const [id, colour] of [["grey", "#777"], ["black", "#000"]]) {
          const p = document.createElement("p");  // styled through the CSSOM: the CSP blocks style attributes
          p.id = id; p.textContent = id; p.style.color = colour; p.style.backgroundColor = "#fff";
          document.querySelector("main").append(p);
        }""")
    probes = {item["selector"]: item["ratio"] for item in driver.execute_script(CONTRAST, "#grey, #black")}
    assert probes == {"p#grey": 4.48, "p#black": 21.0}
