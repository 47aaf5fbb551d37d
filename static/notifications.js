// The notifications menu follows the page's one live stream (static/live.js). The menu loads once
// the stream is open (so nothing can happen unseen between the two), again on each reconnection
// and resync (to catch up on what a dropped stream missed), and on each `notification.created`
// event, which the server sends to its recipients only. When the stream is refused (too many
// open, signed out) or there is no stream, the menu loads at once and then polls once a minute.
(() => {
  "use strict";
  const POLL_MS = 60000;
  const refresh = () => {
    if (document.getElementById("notifications-menu") && window.htmx) {
      htmx.trigger("#notifications-menu", "notifications-changed");
    }
  };
  let polling = null;
  const poll = () => {
    if (polling) return;
    refresh();
    polling = setInterval(refresh, POLL_MS);
  };

  function follow() {
    if (!document.getElementById("notifications-menu")) return;
    if (!window.Live || !document.getElementById("live-stream")) return poll();
    Live.on("notification.created", refresh);
    Live.on("resync", refresh);
    Live.onConnect(({ refused }) => (refused ? poll() : refresh()));
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", follow);
  else follow();
})();
