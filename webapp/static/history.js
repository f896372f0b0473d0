/* ecgstream history page: the recent-recordings list (GET /api/recordings with filters) and one
   patient's recordings (POST /api/patients/history: the reference goes in the body, never the URL).
   Text only through textContent. */
(function () {
  "use strict";

  const filterForm = document.getElementById("filter-form");
  const patientForm = document.getElementById("patient-form");
  const rows = document.getElementById("history-rows");
  const statusBox = document.getElementById("list-status");
  const errorBox = document.getElementById("list-error");
  const title = document.getElementById("list-title");
  const prev = document.getElementById("page-prev");
  const next = document.getElementById("page-next");
  const PAGE_SIZE = 20;
  const STATUS = { pending: "Pending", normal: "Normal", abnormal: "Abnormal", unreadable: "Unreadable",
    no_statement: "No statement" };
  let query = { mode: "list", filters: {}, page: 1, patientRef: null };

  function filters() {
    const out = {};
    for (const name of ["status", "statement", "since", "until"]) {
      const value = filterForm.elements[name].value.trim();
      if (value) out[name] = value;
    }
    return out;
  }

  const when = window.ecgList.when;
  const cell = window.ecgList.cell;

  function row(item) {
    const tr = document.createElement("tr");
    tr.dataset.recordingId = item.recording_id;
    tr.dataset.status = item.status;
    const result = cell("", "result");
    const badge = document.createElement("span");
    badge.className = "badge status-" + item.status;
    badge.textContent = STATUS[item.status] || item.status;
    result.append(badge);
    if (item.verdict) {
      const verdict = document.createElement("div");
      verdict.textContent = item.verdict;
      result.append(verdict);
    }
    const codes = item.statements.map(function (s) { return s.code + " " + s.name; }).join("; ");
    const open = window.ecgList.openCell(item.result_url, "Open result",
      "Open the result of recording " + item.recording_id, item.recording_id);
    tr.append(cell(when(item.received_at), "when"), result, cell(codes || "\u2014"), open);
    return tr;
  }

  async function errorOf(response) {
    try {
      const body = await response.json();
      if (body && body.error) return body.error;
    } catch (e) { /* not JSON */ }
    return { message: "the server answered " + response.status };
  }

  function showError(error) {
    errorBox.textContent = error.message;
    errorBox.hidden = false;
    statusBox.textContent = "";
    const slot = error.field === "patient_ref" && document.getElementById("patient-ref-error");
    if (slot) slot.textContent = error.message;
  }

  async function load() {
    errorBox.hidden = true;
    document.getElementById("patient-ref-error").textContent = "";
    statusBox.textContent = "Loading\u2026";
    const params = Object.assign({}, query.filters, { page: String(query.page), page_size: String(PAGE_SIZE) });
    let response;
    try {
      if (query.mode === "patient") {
        response = await fetch("/api/patients/history", {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": patientForm.elements.csrf_token.value },
          body: JSON.stringify(Object.assign({ patient_ref: query.patientRef }, params)),
        });
      } else {
        response = await fetch("/api/recordings?" + new URLSearchParams(params), { headers: { Accept: "application/json" } });
      }
    } catch (e) {
      showError({ message: "The server could not be reached." });
      return;
    }
    if (!response.ok) {
      showError(await errorOf(response));
      return;
    }
    const body = await response.json();
    rows.replaceChildren(...body.items.map(row));
    title.textContent = query.mode === "patient" ? "This patient's recordings" : "Recordings";
    statusBox.textContent = body.items.length
      ? body.items.length + (body.items.length === 1 ? " recording" : " recordings") + " on this page."
      : "No recordings match.";
    document.getElementById("page-number").textContent = "Page " + body.page;
    prev.disabled = body.page <= 1;
    next.disabled = !body.has_more;
  }

  filterForm.addEventListener("submit", function (event) {
    event.preventDefault();
    query = { mode: "list", filters: filters(), page: 1, patientRef: null };
    history.replaceState(null, "", "/history?" + new URLSearchParams(query.filters));
    load();
  });

  patientForm.addEventListener("submit", function (event) {
    event.preventDefault();
    const reference = patientForm.elements.patient_ref.value.trim();
    if (!reference) {
      showError({ field: "patient_ref", message: "Enter the patient reference." });
      return;
    }
    query = { mode: "patient", filters: filters(), page: 1, patientRef: reference };
    load();
  });

  prev.addEventListener("click", function () { query.page = Math.max(1, query.page - 1); load(); });
  next.addEventListener("click", function () { query.page += 1; load(); });

  const initial = new URLSearchParams(window.location.search);
  for (const name of ["status", "statement", "since", "until"]) {
    if (initial.get(name)) filterForm.elements[name].value = initial.get(name);
  }
  query.filters = filters();
  load();
})();
