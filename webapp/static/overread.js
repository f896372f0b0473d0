/* Physician overread on the result page: the status (unconfirmed / confirmed by / rejected by), confirm,
   edit (remove statements, add AHA statements of code.csv, free text) and reject, POSTed as JSON to
   /api/recordings/{id}/overread with the page's CSRF token; the audit trail from .../overreads.
   The controls show only for principals with results:confirm (data-can-confirm). Text only through textContent. */
(function () {
  "use strict";

  const section = document.getElementById("overread");
  const canConfirm = section.dataset.canConfirm === "true";
  const statusBox = document.getElementById("overread-status");
  const errorBox = document.getElementById("overread-error");
  const editor = document.getElementById("overread-editor");
  const rejector = document.getElementById("overread-rejector");
  const editButton = document.getElementById("overread-edit");
  const rejectOpen = document.getElementById("overread-reject-open");
  const list = document.getElementById("overread-statements");
  const addCode = document.getElementById("overread-add-code");
  const addModifies = document.getElementById("overread-add-modifies");
  const FIRST_MODIFIER = 300;
  let result = null;
  let state = null;
  let draft = [];

  function csrf() {
    const input = document.querySelector('input[name="csrf_token"]');
    return input ? input.value : "";
  }

  function when(iso) {
    return iso ? new Date(iso).toISOString().slice(0, 16).replace("T", " ") + " UTC" : "";
  }

  function label(s) {
    return s.code + " " + s.name + (s.modifies ? " (qualifies " + s.modifies + ")" : "");
  }

  function codeName(code) {
    const option = addCode.querySelector('option[value="' + code + '"]');
    return option ? option.textContent.replace(/^\d+ /, "") : "AHA statement " + code;
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }

  function renderDraft() {
    list.replaceChildren();
    for (const s of draft) {
      const li = document.createElement("li");
      li.dataset.code = s.code;
      li.append(document.createTextNode(label(s) + " "));
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "link remove-statement";
      remove.textContent = "Remove";
      remove.setAttribute("aria-label", "Remove statement " + s.code + " " + s.name);
      remove.addEventListener("click", function () {
        // a statement goes with the modifiers that qualify it
        draft = draft.filter(function (d) {
          return !(d.code === s.code && d.modifies === s.modifies) && !(s.code < FIRST_MODIFIER && d.modifies === s.code);
        });
        renderDraft();
      });
      li.append(remove);
      list.append(li);
    }
    if (!draft.length) {
      const li = document.createElement("li");
      li.className = "help";
      li.textContent = "No statements (add free text to say why).";
      list.append(li);
    }
    refreshModifies();
  }

  function refreshModifies() {
    const code = Number(addCode.value);
    addModifies.replaceChildren();
    const primaries = draft.filter(function (s) { return s.code < FIRST_MODIFIER && s.code !== 1; });
    for (const s of primaries) {
      const option = document.createElement("option");
      option.value = String(s.code);
      option.textContent = s.code + " " + s.name;
      addModifies.append(option);
    }
    addModifies.disabled = code < FIRST_MODIFIER || !primaries.length;
  }

  function renderState() {
    const o = state;
    section.hidden = false;
    if (o.status === "unconfirmed") {
      statusBox.textContent = "Unconfirmed: no physician has read this ECG yet.";
    } else {
      const verb = o.status === "rejected" ? "Rejected" : "Confirmed";
      statusBox.textContent = verb + " by " + o.by + " at " + when(o.at) + " (version " + o.version + ")" +
        (o.status === "rejected" && o.reason ? ": " + o.reason : ".");
    }
    statusBox.dataset.status = o.status;
    const confirmed = document.getElementById("overread-confirmed");
    confirmed.hidden = o.status !== "confirmed";
    const items = document.getElementById("overread-confirmed-statements");
    items.replaceChildren(...o.statements.map(function (s) {
      const li = document.createElement("li");
      li.dataset.code = s.code;
      li.textContent = label(s);
      return li;
    }));
    document.getElementById("overread-confirmed-text").textContent = o.free_text ? "Comment: " + o.free_text : "";
    document.getElementById("overread-actions").hidden = !canConfirm;
    // once confirmed, a change is an edit; confirming stays possible while unconfirmed or rejected
    document.getElementById("overread-confirm").hidden = o.status === "confirmed";
    editor.hidden = true;
    rejector.hidden = true;
    editButton.setAttribute("aria-expanded", "false");
    rejectOpen.setAttribute("aria-expanded", "false");
  }

  async function loadTrail() {
    const trail = document.getElementById("overread-trail");
    let response;
    try {
      response = await fetch(state.trail_url, { headers: { Accept: "application/json" } });
    } catch (e) {
      return;
    }
    if (!response.ok) return;
    const body = await response.json();
    trail.replaceChildren(...body.items.map(function (item) {
      const li = document.createElement("li");
      li.dataset.version = item.version;
      li.dataset.action = item.action;
      const codes = item.statements.map(function (s) { return s.code; }).join(", ");
      li.textContent = "Version " + item.version + ": " + item.action + " by " + item.by + " at " + when(item.at) +
        (item.action === "reject" ? "" : " \u2014 statements " + (codes || "none")) +
        (item.free_text ? "; comment: " + item.free_text : "") + (item.reason ? "; reason: " + item.reason : "");
      return li;
    }));
    if (!body.items.length) {
      const li = document.createElement("li");
      li.className = "help";
      li.textContent = "No overread yet.";
      trail.append(li);
    }
  }

  async function send(payload) {
    showError("");
    let response;
    try {
      response = await fetch("/api/recordings/" + encodeURIComponent(result.recording_id) + "/overread", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
        body: JSON.stringify(Object.assign({ base_version: state.version }, payload)),
      });
    } catch (e) {
      showError("The server could not be reached; nothing was stored.");
      return;
    }
    let body = null;
    try { body = await response.json(); } catch (e) { /* not JSON */ }
    if (response.status !== 201) {
      showError((body && body.error && body.error.message) || "The server answered " + response.status + ".");
      return;
    }
    state = body;
    renderState();
    loadTrail();
  }

  document.getElementById("overread-confirm").addEventListener("click", function () {
    send({ action: "confirm" });
  });

  editButton.addEventListener("click", function () {
    const open = editor.hidden;
    const source = state.status === "confirmed" ? state.statements : result.statements;
    draft = source.map(function (s) { return { code: s.code, name: s.name, modifies: s.modifies || null }; });
    document.getElementById("overread-free-text").value = state.free_text || "";
    renderDraft();
    editor.hidden = !open;
    rejector.hidden = true;
    editButton.setAttribute("aria-expanded", String(open));
    if (open) addCode.focus();
  });

  rejectOpen.addEventListener("click", function () {
    const open = rejector.hidden;
    rejector.hidden = !open;
    editor.hidden = true;
    rejectOpen.setAttribute("aria-expanded", String(open));
    if (open) document.getElementById("overread-reject-reason").focus();
  });

  addCode.addEventListener("change", refreshModifies);

  document.getElementById("overread-add").addEventListener("click", function () {
    const code = Number(addCode.value);
    const modifies = code >= FIRST_MODIFIER ? Number(addModifies.value) || null : null;
    if (code >= FIRST_MODIFIER && !modifies) {
      showError("A modifier qualifies a statement: add the statement first, then choose it.");
      return;
    }
    if (draft.some(function (s) { return s.code === code && s.modifies === modifies; })) return;
    draft.push({ code: code, name: codeName(code), modifies: modifies });
    showError("");
    renderDraft();
  });

  document.getElementById("overread-save").addEventListener("click", function () {
    send({
      action: "edit",
      statements: draft.map(function (s) { return { code: s.code, modifies: s.modifies }; }),
      free_text: document.getElementById("overread-free-text").value,
      reason: document.getElementById("overread-edit-reason").value,
    });
  });

  document.getElementById("overread-reject").addEventListener("click", function () {
    send({ action: "reject", reason: document.getElementById("overread-reject-reason").value });
  });

  function load(d) {
    result = d;
    state = d.overread;
    showError("");
    if (!state) {
      section.hidden = true;
      return;
    }
    renderState();
    loadTrail();
  }

  window.ecgOverread = { load: load };
})();
