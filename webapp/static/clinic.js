/* The clinician's view of one result: headline verdict, critical findings, tracing, report link.
   Called by app.js with the JSON of GET /api/recordings/{id}. Text only through textContent. */
(function () {
  "use strict";

  function render(d) {
    const verdict = document.getElementById("verdict");
    verdict.textContent = d.verdict || "";
    verdict.className = "verdict " + ((d.verdict_detail && d.verdict_detail.kind) || "");
    const findings = d.critical_findings || [];
    const box = document.getElementById("critical");
    const list = document.getElementById("critical-list");
    list.replaceChildren();
    for (const f of findings) {
      const li = document.createElement("li");
      li.dataset.finding = f.finding;
      const title = document.createElement("strong");
      title.textContent = f.title + ": " + f.evidence;
      const rule = document.createElement("span");
      rule.className = "rule";
      rule.textContent = " (rule: " + f.rule + ")";
      li.append(title, rule);
      list.append(li);
    }
    box.hidden = findings.length === 0;
    const img = document.getElementById("tracing");
    img.src = d.tracing_url;
    img.alt = "12-lead ECG tracing of recording " + d.recording_id +
      " (3 x 4 leads of 2.5 s and a 10-s lead II rhythm strip, 25 mm/s, 10 mm/mV)";
    document.getElementById("tracing-figure").hidden = false;
    const report = document.getElementById("report-link");
    report.href = d.report_url;
    report.hidden = false;
    if (window.ecgComparison) window.ecgComparison.load(d);
    if (window.ecgOverread) window.ecgOverread.load(d);
  }

  window.ecgClinic = { render: render };
})();
