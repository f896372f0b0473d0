// ecgstream upload page: submit the form to the JSON API, then poll until the diagnosis is stored.
"use strict";

(function () {
  const form = document.getElementById("upload-form");
  const button = document.getElementById("submit");
  const statusBox = document.getElementById("status");
  const errorBox = document.getElementById("error");
  const result = document.getElementById("result");
  const maxBytes = Number(form.dataset.maxUploadBytes);
  const FIELDS = ["file", "age", "sex", "height_cm", "weight_kg", "patient_name", "patient_ref", "device_id"];
  let pollTimer = null;

  function setStatus(text, busy) {
    statusBox.textContent = text;
    statusBox.classList.toggle("busy", Boolean(busy));
  }

  function clearErrors() {
    errorBox.hidden = true;
    errorBox.textContent = "";
    for (const name of FIELDS) {
      const slot = document.getElementById(name + "-error");
      if (slot) slot.textContent = "";
      for (const input of form.querySelectorAll('[name="' + name + '"]')) input.removeAttribute("aria-invalid");
    }
  }

  function showError(title, message, field) {
    const slot = field && document.getElementById(field + "-error");
    if (slot) {
      slot.textContent = message;
      const input = form.querySelector('[name="' + field + '"]');
      if (input) {
        input.setAttribute("aria-invalid", "true");
        input.focus();
      }
    }
    errorBox.replaceChildren();
    const strong = document.createElement("strong");
    strong.textContent = title;
    errorBox.append(strong, document.createTextNode(message));
    errorBox.hidden = false;
    setStatus("", false);
  }

  function fmtSeconds(value) {
    if (value === null || value === undefined) return "n/a";
    return value < 1 ? (value * 1000).toFixed(0) + " ms" : value.toFixed(2) + " s";
  }

  const PROVENANCE = { measurement: "Measurement", model: "Model", both: "Measurement + model" };
  const MEASUREMENTS = [
    ["heart_rate_bpm", "Heart rate (ventricular)", " bpm"], ["atrial_rate_bpm", "Atrial (sinus) rate", " bpm"],
    ["pr_ms", "PR", " ms"], ["qrs_ms", "QRS", " ms"],
    ["qt_ms", "QT", " ms"], ["qtc_bazett_ms", "QTc (Bazett)", " ms"], ["qtc_fridericia_ms", "QTc (Fridericia)", " ms"],
    ["p_axis_deg", "P axis", "\u00b0"], ["qrs_axis_deg", "QRS axis", "\u00b0"], ["t_axis_deg", "T axis", "\u00b0"],
    ["rr_mean_ms", "RR mean", " ms"], ["rr_sd_ms", "RR SD", " ms"],
  ];

  function cell(text, className) {
    const td = document.createElement("td");
    if (className) td.className = className;
    td.textContent = text;
    return td;
  }

  const RHYTHMS = {
    sinus: "Sinus rhythm", atrial_fibrillation: "Atrial fibrillation", atrial_flutter: "Atrial flutter",
    paced: "Paced rhythm",
    undetermined: "Rhythm undetermined (no consistent P waves)",
  };

  function statementRow(s) {
    const row = document.createElement("tr");
    row.dataset.provenance = s.provenance;
    row.dataset.certainty = s.certainty || "definite";
    if (s.certainty === "possible") row.className = "possible";
    const decided = cell("", "provenance");
    const badge = document.createElement("span");
    badge.className = "badge " + s.provenance;
    badge.textContent = PROVENANCE[s.provenance] || s.provenance;
    decided.append(badge);
    if (s.evidence) decided.title = s.evidence;
    const prob = cell("", "prob");
    if (s.probability === null || s.probability === undefined) {
      prob.textContent = "\u2014";
    } else {
      const meter = document.createElement("span");
      meter.className = "meter";
      meter.setAttribute("aria-hidden", "true");
      const fill = document.createElement("span");
      fill.style.width = Math.round(s.probability * 100) + "%";
      meter.append(fill);
      prob.append(meter, document.createTextNode((s.probability * 100).toFixed(1) + " %"));
    }
    const label = (s.certainty === "possible" ? "Possible: " : "") + s.name;
    const name = cell(s.modifies ? label + " (qualifies " + s.modifies + ")" : label);
    if (s.evidence) {
      const why = document.createElement("div");
      why.className = "help";
      why.textContent = s.evidence;
      name.append(why);
    }
    row.append(cell(s.code, "code"), name, decided, prob);
    return row;
  }

  function fact(label, id, text) {
    const div = document.createElement("div");
    const dt = document.createElement("dt");
    dt.textContent = label;
    const dd = document.createElement("dd");
    dd.id = id;
    dd.textContent = text;
    div.append(dt, dd);
    return div;
  }

  function renderMeasurements(m) {
    const box = document.getElementById("measurements");
    const list = document.getElementById("measurement-values");
    list.replaceChildren();
    box.hidden = !m;
    if (!m) return;
    const missing = m.missing || {};
    list.append(fact("Rhythm", "m-rhythm", m.rhythm ? (RHYTHMS[m.rhythm] || m.rhythm) : "not measured"));
    if (m.excluded_leads && m.excluded_leads.length) {
      list.append(fact("Leads left out (unreadable)", "m-excluded", m.excluded_leads.join(", ")));
    }
    for (const [key, label, unit] of MEASUREMENTS) {
      const value = m[key];
      list.append(fact(label, "m-" + key, value === null || value === undefined
        ? "not measured" + (missing[key] ? " (" + missing[key].replace(/_/g, " ") + ")" : "")
        : Math.round(value) + unit));
    }
    const beats = m.beats || {};
    list.append(fact("Beats (normal / SV premature / V premature / other)", "m-beats",
      ["N", "S", "V", "Q"].map(function (k) { return beats[k] || 0; }).join(" / ")));
  }

  function renderQuality(q) {
    const box = document.getElementById("quality");
    const leads = document.getElementById("quality-leads");
    leads.replaceChildren();
    box.hidden = !q;
    if (!q) return;
    document.getElementById("quality-verdict").textContent = q.verdict;
    document.getElementById("quality-problems").textContent =
      q.problems && q.problems.length ? "Recording problems: " + q.problems.join(", ").replace(/_/g, " ") : "";
    for (const lead of q.leads || []) {
      const li = document.createElement("li");
      li.className = lead.verdict;
      li.dataset.lead = lead.lead;
      li.textContent = lead.lead + (lead.verdict === "good" ? "" : ": " + lead.verdict +
        (lead.problems.length ? " (" + lead.problems.join(", ").replace(/_/g, " ") + ")" : ""));
      leads.append(li);
    }
  }

  function renderDiagnosis(d) {
    const body = document.getElementById("statements");
    body.replaceChildren();
    for (const s of d.statements) body.append(statementRow(s));
    const unreadable = d.readable === false;
    document.getElementById("unreadable").hidden = !unreadable;
    document.getElementById("unreadable-reasons").textContent =
      (d.unreadable_reasons || []).join(", ").replace(/_/g, " ");
    document.getElementById("statements-table").hidden = unreadable;
    document.getElementById("no-statements").hidden = unreadable || d.statements.length > 0;
    renderMeasurements(d.measurements);
    renderQuality(d.quality);
    document.getElementById("model-version").textContent = d.model_version;
    document.getElementById("latency").textContent = fmtSeconds(d.timings.latency_from_ingest_seconds);
    document.getElementById("inference").textContent = unreadable
      ? "not run (recording unreadable)"
      : fmtSeconds(d.timings.inference_seconds) + " (preprocessing " + fmtSeconds(d.timings.preprocess_seconds) + ")";
    const r = d.recording;
    document.getElementById("recording-facts").textContent =
      r.duration_s + " s at " + r.sampling_rate_hz + " Hz";
    document.getElementById("recording-id").textContent = d.recording_id;
    if (window.ecgClinic) window.ecgClinic.render(d);
    result.hidden = false;
    const n = d.statements.length;
    setStatus(unreadable
      ? "Recording unreadable: no statements."
      : "Diagnosis ready: " + n + (n === 1 ? " statement." : " statements."), false);
  }

  async function errorOf(response) {
    try {
      const body = await response.json();
      if (body && body.error) return body.error;
    } catch (e) { /* not JSON */ }
    return { reason: "http_" + response.status, message: "the server answered " + response.status };
  }

  function poll(id, started) {
    const elapsed = (Date.now() - started) / 1000;
    const delay = elapsed < 30 ? 1000 : 3000;
    pollTimer = window.setTimeout(async function () {
      let response;
      try {
        response = await fetch("/api/recordings/" + encodeURIComponent(id), { headers: { Accept: "application/json" } });
      } catch (e) {
        setStatus("Connection to the server lost; retrying\u2026", true);
        poll(id, started);
        return;
      }
      if (response.ok) {
        const body = await response.json();
        if (body.status === "done") {
          button.disabled = false;
          renderDiagnosis(body);
          return;
        }
        const wait = Math.round((Date.now() - started) / 1000);
        setStatus(
          wait < 120
            ? "Queued. Waiting for the diagnosis\u2026 (" + wait + " s)"
            : "Still waiting after " + wait + " s: the analysis service may be busy or stopped. This page keeps checking.",
          true,
        );
        poll(id, started);
      } else if (response.status === 503) {
        setStatus("The results database is unavailable; retrying\u2026", true);
        poll(id, started);
      } else {
        const error = await errorOf(response);
        button.disabled = false;
        showError("Could not read the result. ", error.message);
      }
    }, delay);
  }

  function track(id) {
    if (pollTimer) window.clearTimeout(pollTimer);
    result.hidden = true;
    document.getElementById("recording-id").textContent = id;
    setStatus("Queued. Waiting for the diagnosis\u2026", true);
    poll(id, Date.now());
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    clearErrors();
    result.hidden = true;
    const files = document.getElementById("file").files;
    if (!files.length) {
      showError("No file chosen. ", "Choose an ECG file to upload.", "file");
      return;
    }
    let total = 0;
    for (const f of files) total += f.size;
    if (total > maxBytes) {
      showError("File too large. ", "The upload is " + (total / 1048576).toFixed(1) + " MiB; the limit is " +
        (maxBytes / 1048576).toFixed(1) + " MiB.", "file");
      return;
    }
    button.disabled = true;
    setStatus("Uploading and checking the recording\u2026", true);
    let response;
    try {
      response = await fetch("/api/recordings", { method: "POST", body: new FormData(form) });
    } catch (e) {
      button.disabled = false;
      showError("Upload failed. ", "The server could not be reached. Check the connection and try again.");
      return;
    }
    if (response.status === 202) {
      const body = await response.json();
      history.replaceState(null, "", "?recording=" + encodeURIComponent(body.recording_id));
      track(body.recording_id);
      return;
    }
    button.disabled = false;
    const error = await errorOf(response);
    const titles = {
      413: "File too large. ",
      415: "This file cannot be read as an ECG. ",
      422: error.field ? "Please check the form. " : "This recording cannot be analysed. ",
    };
    const field = error.field || (response.status === 415 || response.status === 413 || response.status === 400 ? "file" : null);
    showError(titles[response.status] || "The upload was rejected. ", error.message, field);
  });

  const resume = new URLSearchParams(window.location.search).get("recording");
  if (resume) {
    button.disabled = true;
    track(resume);
  }
})();
