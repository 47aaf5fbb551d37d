// Bulk actions on an agent's queue: `x` ticks the focused (or j/k-selected) row, the header box
// ticks the whole page, the form shows only the value its action needs, and counts the ticked rows.
(() => {
  "use strict";
  const ticks = (el) => el?.matches?.("input[type=checkbox]");
  const typing = (el) => el && !ticks(el) && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  const boxes = () => Array.from(document.querySelectorAll("#queues-list input[name=ticket]"));

  function count() {
    const ticked = boxes().filter((box) => box.checked).length;
    const label = document.querySelector("#queues-bulk .bulk-count");
    if (label) label.textContent = ticked ? `${ticked} selected` : "";
    const all = document.getElementById("pick-all");
    if (all) all.checked = ticked > 0 && ticked === boxes().length;
  }

  function showValue() {
    const action = document.getElementById("bulk-action")?.value;
    document.querySelectorAll("#queues-bulk .bulk-value").forEach((el) => {
      el.hidden = !el.dataset.action.split(" ").includes(action);
    });
  }

  function toggleRow() {
    const focused = document.activeElement?.closest?.("#queues-list .ticket-row");
    const row = focused || document.querySelector("#queues-list .ticket-row.selected");
    const box = row?.querySelector("input[name=ticket]");
    if (!box) return;
    box.checked = !box.checked;
    count();
  }

  document.addEventListener("keydown", (event) => {
    if (event.key !== "x" || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (!document.getElementById("queues-bulk")) return;
    event.preventDefault();
    toggleRow();
  });
  document.addEventListener("change", (event) => {
    if (event.target.id === "pick-all") boxes().forEach((box) => { box.checked = event.target.checked; });
    if (event.target.id === "bulk-action") showValue();
    count();
  });
  // The queue context of a ticket opened from here: its rows in order, for j / k on the ticket page.
  document.addEventListener("click", (event) => {
    if (!event.target.closest?.("#queues-list a.ticket-link")) return;
    const ids = Array.from(document.querySelectorAll("#queues-list a.ticket-link"), (a) => a.textContent.trim());
    sessionStorage.setItem("queue-context", JSON.stringify({ queue: location.pathname + location.search, ids }));
  });
  document.addEventListener("htmx:after:swap", () => { showValue(); count(); });
  showValue();
})();
