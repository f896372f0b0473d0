/* Serial comparison on the result page: GET /api/recordings/{id}/comparison (404: no earlier
   recording, the section stays hidden), new and resolved statements, measurement changes, and both
   tracings side by side on demand (the earlier SVG is loaded only then). Text only through textContent. */
(function () {
  "use strict";

  const section = document.getElementById("comparison");
  const button = document.getElementById("side-by-side");
  const view = document.getElementById("side-by-side-view");
  let current = null;

  function statementItems(listId, statements) {
    const list = document.getElementById(listId);
    list.replaceChildren();
    for (const s of statements) {
      const li = document.createElement("li");
      li.dataset.code = s.code;
      li.textContent = s.code + " " + s.name;
      list.append(li);
    }
    if (!statements.length) {
      const li = document.createElement("li");
      li.className = "help";
      li.textContent = "none";
      list.append(li);
    }
  }

  function number(value, unit) {
    return value === null || value === undefined ? "\u2014" : Math.round(value) + " " + unit;
  }

  function changeRow(c) {
    const tr = document.createElement("tr");
    tr.dataset.key = c.key;
    if (c.notable) tr.className = "notable";
    const unit = c.unit === "deg" ? "\u00b0" : c.unit;
    const change = c.change === null ? "\u2014" : (c.change > 0 ? "+" : "") + c.change.toFixed(0) + " " + unit;
    for (const text of [c.label, number(c.previous, unit), number(c.current, unit), change]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.append(td);
    }
    return tr;
  }

  function render(c) {
    current = c;
    const when = new Date(c.previous.acquired_at || c.previous.ingested_at || c.previous.diagnosed_at);
    const date = when.toISOString().slice(0, 16).replace("T", " ") + " UTC";
    document.getElementById("comparison-summary").textContent =
      "Earlier recording of " + date + ": " + c.previous.verdict + "." +
      (c.changed ? "" : " No statement changed and no measurement changed much.");
    statementItems("new-statements", c.new_statements);
    statementItems("resolved-statements", c.resolved_statements);
    document.getElementById("measurement-changes").replaceChildren(...c.measurement_changes.map(changeRow));
    document.getElementById("previous-result").href = c.previous.result_url;
    document.getElementById("previous-caption").textContent = "Earlier recording, " + date;
    view.hidden = true;
    button.setAttribute("aria-expanded", "false");
    button.textContent = "Show both tracings side by side";
    section.hidden = false;
  }

  async function load(d) {
    section.hidden = true;
    current = null;
    let response;
    try {
      response = await fetch("/api/recordings/" + encodeURIComponent(d.recording_id) + "/comparison",
        { headers: { Accept: "application/json" } });
    } catch (e) {
      return;  // the comparison is an extra: the result stands without it
    }
    if (response.ok) render(await response.json());
  }

  button.addEventListener("click", function () {
    if (!current) return;
    const show = view.hidden;
    if (show) {
      const earlier = document.getElementById("previous-tracing");
      earlier.src = current.previous.tracing_url;
      earlier.alt = "12-lead ECG tracing of the earlier recording " + current.previous.recording_id;
      const now = document.getElementById("current-tracing");
      now.src = current.current.tracing_url;
      now.alt = "12-lead ECG tracing of this recording " + current.current.recording_id;
    }
    view.hidden = !show;
    button.setAttribute("aria-expanded", String(show));
    button.textContent = show ? "Hide the side-by-side tracings" : "Show both tracings side by side";
  });

  window.ecgComparison = { load: load };
})();
