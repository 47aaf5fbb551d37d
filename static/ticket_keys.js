// Keyboard shortcuts on an agent's ticket page (listed under `?`): r reply, n internal note,
// a assign to me, j / k the next / previous ticket of the queue it was opened from. The queue
// page (bulk.js) keeps the order of its rows in sessionStorage when a ticket is opened from it.
(() => {
  "use strict";
  const typing = (el) => el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  const here = () => decodeURIComponent(location.pathname.split("/").pop());

  function write(visibility) {
    const choice = document.querySelector(`#tickets-reply input[name=visibility][value=${visibility}]`);
    if (choice) choice.checked = true;
    document.querySelector("#tickets-reply textarea[name=body]")?.focus();
  }

  function step(by) {
    let context;
    try {
      context = JSON.parse(sessionStorage.getItem("queue-context") || "null");
    } catch {
      context = null;
    }
    const at = context?.ids?.indexOf(here()) ?? -1;
    const next = at >= 0 ? context.ids[at + by] : undefined;
    if (next) location.assign(`/tickets/${encodeURIComponent(next)}`);
  }

  const keys = {
    r: () => write("public"),
    n: () => write("internal"),
    a: () => document.getElementById("assign-to-me")?.click(),
    j: () => step(1),
    k: () => step(-1),
    "?": () => document.getElementById("ticket-shortcuts")?.showModal(),
  };

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    const action = keys[event.key];
    if (!action || !document.getElementById("tickets-header")) return;
    event.preventDefault();
    action();
  });
})();
