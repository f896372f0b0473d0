/* Helpers shared by the list pages (history, worklist): UTC times and table cells. Text only through textContent. */
(function () {
  "use strict";

  function when(iso) {
    if (!iso) return "";
    return new Date(iso).toISOString().slice(0, 16).replace("T", " ") + " UTC";
  }

  function cell(text, className) {
    const td = document.createElement("td");
    if (className) td.className = className;
    td.textContent = text;
    return td;
  }

  /* The "Open ..." link of a row, with the recording id beneath it. */
  function openCell(href, text, label, recordingId) {
    const open = cell("", "open");
    const link = document.createElement("a");
    link.href = href;
    link.className = "open-result";
    link.textContent = text;
    link.setAttribute("aria-label", label);
    const id = document.createElement("div");
    id.className = "mono help";
    id.textContent = recordingId;
    open.append(link, id);
    return open;
  }

  window.ecgList = { when: when, cell: cell, openCell: openCell };
})();
