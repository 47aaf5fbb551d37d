// The notifications menu follows the page's live stream (GET /stream): a `notification.created`
// event, which the server sends to its recipients only, makes the menu fetch itself again; so
// does every (re)connection, which catches up on what a dropped stream missed. Should the stream
// be refused (too many open, signed out), the menu polls once a minute instead.
(() => {
  "use strict";
  const POLL_MS = 60000;
  const refresh = () => {
    const menu = document.getElementById("notifications-menu");
    if (menu && window.htmx) htmx.trigger(menu, "notifications-changed");
  };
  let polling = null;
  const poll = () => { if (!polling) polling = setInterval(refresh, POLL_MS); };

  function follow() {
    if (!document.getElementById("notifications-menu")) return;
    if (!window.EventSource) return poll();
    const stream = new EventSource("/stream");
    let opened = false;
    stream.addEventListener("open", () => {
      if (opened) refresh(); // a reconnection: catch up
      opened = true;
    });
    stream.addEventListener("notification.created", refresh);
    stream.addEventListener("resync", refresh);
    stream.addEventListener("error", () => { if (stream.readyState === EventSource.CLOSED) poll(); });
    window.addEventListener("pagehide", () => stream.close());
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", follow);
  else follow();
})();
