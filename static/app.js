// Small progressive enhancements: queue keyboard shortcuts and announcing swapped content.
(() => {
  "use strict";
  const typing = (el) => el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  const rows = () => Array.from(document.querySelectorAll("#queues-list .ticket-row"));

  function select(step) {
    const all = rows();
    if (!all.length) return;
    const current = all.findIndex((row) => row.classList.contains("selected"));
    const next = all[Math.min(all.length - 1, Math.max(0, current + step))];
    all.forEach((row) => row.classList.remove("selected"));
    next.classList.add("selected");
    next.querySelector("a.ticket-link").focus();
  }

  const keys = {
    j: () => select(1),
    k: () => select(-1),
    "/": () => document.getElementById("q")?.focus(),
    "?": () => document.getElementById("shortcuts")?.showModal(),
    Enter: () => document.querySelector("#queues-list .ticket-row.selected a.ticket-link")?.click(),
  };

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (!document.getElementById("queues-list")) return;
    const action = keys[event.key];
    if (!action || (event.key === "Enter" && event.target.matches("a, button"))) return;
    event.preventDefault();
    action();
  });

  // Tell screen readers what a swap changed: the swapped element's data-announce, or its heading.
  document.addEventListener("htmx:after:swap", (event) => {
    const region = document.getElementById("live-region");
    const target = event.detail?.ctx?.target;
    const root = target?.isConnected ? target : target?.id && document.getElementById(target.id);
    const text = root?.dataset?.announce || root?.querySelector?.("[role=alert], [role=status]")?.textContent;
    if (region && text) region.textContent = text.trim();
  });
})();
