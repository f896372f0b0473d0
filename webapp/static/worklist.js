/* ecgstream overread worklist: GET /api/worklist (critical findings first, then the oldest), one page at a
   time; each row opens the result page, where the physician confirms, edits or rejects. A principal without
   results:confirm gets the API's 403 message. Text only through textContent. */
(function () {
  "use strict";

  const rows = document.getElementById("worklist-rows");
  const statusBox = document.getElementById("worklist-status");
  const errorBox = document.getElementById("worklist-error");
  const prev = document.getElementById("worklist-prev");
  const next = document.getElementById("worklist-next");
  const PAGE_SIZE = 25;
  let page = 1;

  const when = window.ecgList.when;
  const cell = window.ecgList.cell;

  function row(item) {
    const tr = document.createElement("tr");
    tr.dataset.recordingId = item.recording_id;
    tr.dataset.critical = String(item.critical_findings.length > 0);
    const result = cell("", "result");
    for (const f of item.critical_findings) {
      const badge = document.createElement("span");
      badge.className = "badge status-abnormal critical-badge";
      badge.textContent = "Critical: " + f.title;
      result.append(badge, document.createElement("br"));
    }
    const verdict = document.createElement("div");
    verdict.textContent = item.verdict;
    result.append(verdict);
    const codes = item.statements.map(function (s) { return s.code + " " + s.name; }).join("; ");
    const open = window.ecgList.openCell(item.result_url, "Open to overread",
      "Open recording " + item.recording_id + " to overread", item.recording_id);
    tr.append(cell(when(item.received_at), "when"), result, cell(codes || "\u2014"), open);
    return tr;
  }

  async function load() {
    errorBox.hidden = true;
    statusBox.textContent = "Loading\u2026";
    let response;
    try {
      response = await fetch("/api/worklist?" + new URLSearchParams({ page: String(page), page_size: String(PAGE_SIZE) }),
        { headers: { Accept: "application/json" } });
    } catch (e) {
      errorBox.textContent = "The server could not be reached.";
      errorBox.hidden = false;
      return;
    }
    let body = null;
    try { body = await response.json(); } catch (e) { /* not JSON */ }
    if (!response.ok) {
      errorBox.textContent = (body && body.error && body.error.message) || "The server answered " + response.status;
      errorBox.hidden = false;
      statusBox.textContent = "";
      return;
    }
    rows.replaceChildren(...body.items.map(row));
    statusBox.textContent = body.total
      ? body.total + (body.total === 1 ? " ECG awaits" : " ECGs await") + " overread."
      : "Nothing awaits overread.";
    document.getElementById("worklist-page").textContent = "Page " + body.page;
    prev.disabled = body.page <= 1;
    next.disabled = !body.has_more;
  }

  prev.addEventListener("click", function () { page = Math.max(1, page - 1); load(); });
  next.addEventListener("click", function () { page += 1; load(); });
  load();
})();
