// The notifications menu follows the page's live stream (GET /stream). The menu loads once the
// stream is open (so nothing can happen unseen between the two), again on each reconnection (to
// catch up on what a dropped stream missed), and on each `notification.created` event, which the
// server sends to its recipients only. Without EventSource, or when the stream is refused (too
// many open, signed out), the menu loads at once and then polls once a minute.
(() => {
  "use strict";
  const POLL_MS = 60000;
  const refresh = () => {
    const menu = document.getElementById("notifications-menu");
    if (menu && window.htmx) htmx.trigger(menu, "notifications-changed");
  };
  let polling = null;
  const poll = () => {
    if (polling) return;
    refresh();
    polling = setInterval(refresh, POLL_MS);
  };

  function follow() {
    if (!document.getElementById("notifications-menu")) return;
    if (!window.EventSource) return poll();
    const stream = new EventSource("/stream");
    stream.addEventListener("open", refresh);
    stream.addEventListener("notification.created", refresh);
    stream.addEventListener("resync", refresh);
    stream.addEventListener("error", () => {
      if (stream.readyState === EventSource.CLOSED) poll();
    });
    window.addEventListener("pagehide", () => stream.close());
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", follow);
  else follow();
})();
