// The live desk: the page's one stream (GET /stream, opened by htmx's SSE extension on
// #live-stream, which dispatches each named event there as a DOM event) and what follows it:
// - `Live.on(kind, handler)` and `Live.onConnect(handler)`: how other scripts (notifications.js)
//   share the one stream instead of opening their own;
// - queues: the list and its counts refresh in place, changed rows briefly highlighted, the
//   selected row and the filters' text untouched;
// - the ticket page: others' comments and changes refresh the panels they touch, a quiet notice
//   says who changed what; a heartbeat says who else is here and typing; the reply is kept as a
//   draft as it is typed;
// - a lost stream is shown, and when it returns the page re-fetches what it shows.
(() => {
  "use strict";
  const handlers = {};
  const connected = [];
  let lost = false;
  let everConnected = false;

  const Live = {
    on(kind, handler) {
      (handlers[kind] ||= []).push(handler);
      const stream = document.getElementById("live-stream");
      if (stream && handlers[kind].length === 1) stream.addEventListener(kind, dispatch);
    },
    onConnect(handler) {
      connected.push(handler);
      if (everConnected && !lost) handler({ first: true });
    },
    get open() {
      return everConnected && !lost;
    },
  };
  window.Live = Live;

  function dispatch(event) {
    let data = {};
    try {
      data = JSON.parse(event.detail?.data || "{}");
    } catch {
      return;
    }
    for (const handler of handlers[event.type] || []) handler(data, event);
  }

  function status(show) {
    const element = document.getElementById("live-status");
    if (element) element.hidden = !show;
  }

  function follow() {
    const stream = document.getElementById("live-stream");
    if (!stream) return;
    stream.addEventListener("htmx:sse:after:connection", () => {
      const first = !everConnected;
      everConnected = true;
      const returned = lost;
      lost = false;
      status(false);
      for (const handler of connected) handler({ first, returned });
    });
    const drop = () => {
      if (!everConnected && !lost) connected.forEach((handler) => handler({ refused: true }));
      lost = true;
      status(true);
    };
    stream.addEventListener("htmx:sse:error", drop);
    stream.addEventListener("htmx:sse:close", drop);
    stream.addEventListener("htmx:after:request", (event) => {
      const response = event.detail?.ctx?.response;
      if (response && response.status >= 400) drop(); // refused: too many streams, signed out
    });
    queuePage();
    ticketPage();
  }

  // --- fetching partials -----------------------------------------------------------------------

  async function fetchElement(url, id) {
    const response = await fetch(url, { headers: { "HX-Request": "true" }, cache: "no-store" });
    if (!response.ok) return null;
    const template = document.createElement("template");
    template.innerHTML = await response.text();
    return template.content.getElementById(id) || template.content.firstElementChild;
  }

  function replace(old, fresh) {
    old.replaceWith(fresh);
    if (window.htmx) htmx.process(fresh);
    return fresh;
  }

  const debounce = (fn, ms) => {
    let timer = null;
    const call = (...args) => {
      clearTimeout(timer);
      timer = setTimeout(() => fn(...args), ms);
    };
    call.cancel = () => clearTimeout(timer);
    return call;
  };

  function flash(element) {
    element.classList.remove("live-flash");
    void element.offsetWidth; // restart the animation
    element.classList.add("live-flash");
    setTimeout(() => element.classList.remove("live-flash"), 2500);
  }

  // --- queues --------------------------------------------------------------------------------

  function queuePage() {
    const live = document.getElementById("queues-live");
    if (!live) return;
    const changed = new Set();
    const rowId = (row) => row.querySelector("a.ticket-link")?.textContent.trim();

    async function refreshList() {
      const list = document.getElementById("queues-list");
      const form = document.getElementById("queue-filters");
      if (!list || !form) return;
      const params = new URLSearchParams(new FormData(form));
      const fresh = await fetchElement(`${form.getAttribute("action")}?${params}`, "queues-list");
      if (!fresh) return;
      const before = new Set(Array.from(list.querySelectorAll(".ticket-row")).map(rowId));
      const selected = list.querySelector(".ticket-row.selected");
      const selectedId = selected && rowId(selected);
      const focused = list.contains(document.activeElement) && document.activeElement.closest(".ticket-row");
      keepLoadedMore(list, fresh);
      const now = replace(document.getElementById("queues-list"), fresh);
      for (const row of now.querySelectorAll(".ticket-row")) {
        const id = rowId(row);
        if (id === selectedId) {
          row.classList.add("selected");
          if (focused) row.querySelector("a.ticket-link")?.focus({ preventScroll: true });
        }
        if (changed.has(id) || !before.has(id)) flash(row);
      }
      changed.clear();
    }

    // The fresh list is the first page: rows the agent loaded beyond it ("Load more") stay below
    // it, with their own "Load more" (its cursor is after them), so nothing they scrolled to vanishes.
    function keepLoadedMore(old, fresh) {
      const oldRows = Array.from(old.querySelectorAll(".ticket-row"));
      const freshRows = Array.from(fresh.querySelectorAll(".ticket-row"));
      const freshMore = fresh.querySelector("#queues-more");
      if (oldRows.length <= freshRows.length || !freshMore) return;
      const freshIds = new Set(freshRows.map(rowId));
      const last = oldRows.findIndex((row) => rowId(row) === rowId(freshRows[freshRows.length - 1]));
      for (const row of oldRows.slice(last >= 0 ? last + 1 : freshRows.length)) {
        if (!freshIds.has(rowId(row))) freshMore.before(row);
      }
      const oldMore = old.querySelector("#queues-more");
      if (oldMore) freshMore.replaceWith(oldMore);
      else freshMore.remove();
      const shown = fresh.querySelector(".list-summary .shown");
      if (shown) shown.textContent = String(fresh.querySelectorAll(".ticket-row").length);
    }

    async function refreshCounts() {
      const nav = document.getElementById("queues-nav");
      const fresh = nav && (await fetchElement(live.dataset.counts, "queues-nav"));
      if (fresh && document.getElementById("queues-nav")) replace(document.getElementById("queues-nav"), fresh);
    }

    const refresh = debounce(() => {
      refreshList();
      refreshCounts();
    }, 300);
    for (const kind of ["ticket.created", "ticket.updated", "ticket.deleted", "comment.created"]) {
      Live.on(kind, (data) => {
        if (data.ticketId) changed.add(data.ticketId);
        refresh();
      });
    }
    Live.on("resync", refresh);
    Live.onConnect(({ returned }) => returned && refresh());
  }

  // --- the ticket page -------------------------------------------------------------------------

  // Which panels each kind of change touches (ticket.updated: by its fields, below).
  const PANELS = {
    "comment.created": ["thread", "history", "clocks"],
    "contacts.changed": ["contacts", "history"],
    "contacts.confirmed": ["contacts", "history"],
    "email.status": ["emails"],
  };
  const FIELD_PANELS = { contacts: ["contacts"], title: ["header"] };

  function ticketPage() {
    const live = document.getElementById("tickets-live");
    if (!live) return;
    const ticketId = live.dataset.ticket;
    const panelUrl = (name) => `${live.dataset.panels}${name}`;
    const notice = live.querySelector(".live-notice");

    function refreshPanels(names) {
      for (const name of new Set(names)) {
        const element = document.getElementById(`tickets-${name}`);
        // Each panel is the request's source: htmx queues requests per source element, and one
        // shared source (the body, by default) would drop all but the last of several at once.
        if (element && window.htmx) {
          htmx.ajax("GET", panelUrl(name), { source: element, target: element, swap: "outerHTML" });
        }
      }
    }

    function say(text) {
      if (!notice || !text) return;
      notice.textContent = text;
      notice.hidden = false;
      flash(notice);
    }

    const updatedPanels = (data) => {
      const names = ["header", "fields", "history", "clocks"];
      for (const field of Object.keys(data.fields || {})) names.push(...(FIELD_PANELS[field] || []));
      return names;
    };
    const sentences = {
      "ticket.updated": (d) => d.said || (d.reopened ? `reopened it (${d.reopened})` : "changed the ticket"),
      "comment.created": (d) => (d.internal ? "added an internal note" : "replied"),
      "contacts.changed": () => "changed the contacts",
      "contacts.confirmed": () => "confirmed the contacts",
      "ticket.deleted": () => "deleted this ticket",
    };

    const mine = (data) => data.ticketId === ticketId;
    for (const kind of ["ticket.updated", "comment.created", "contacts.changed", "contacts.confirmed", "email.status", "ticket.deleted"]) {
      Live.on(kind, (data) => {
        if (!mine(data) || data.self) return; // this user's own change: the page already refreshed
        refreshPanels(kind === "ticket.updated" ? updatedPanels(data) : PANELS[kind] || []);
        if (sentences[kind]) say(`${data.by || "Someone"} ${sentences[kind](data)}.`);
      });
    }
    const catchUp = () => {
      refreshPanels(["header", "fields", "thread", "contacts", "emails", "history", "clocks"]);
      heartbeat();
    };
    Live.on("resync", catchUp);
    Live.onConnect(({ returned }) => returned && catchUp());
    Live.on("presence.changed", (data) => {
      if (mine(data) && !data.self) refreshPresence();
    });

    // Presence: a heartbeat every 10 s, at once when typing starts or stops; a beacon on leaving.
    const HEARTBEAT_MS = 10000;
    const TYPING_IDLE_MS = 6000;
    let typing = false;
    let typingTimer = null;
    const token = () => document.querySelector("#tickets-presence input[name=csrf_token]")?.value || "";
    const presenceData = (fields) => {
      const body = new FormData();
      body.append("csrf_token", token());
      for (const [key, value] of Object.entries(fields)) body.append(key, value);
      return body;
    };
    async function showPresence(response) {
      if (!response.ok) return;
      const template = document.createElement("template");
      template.innerHTML = await response.text();
      const fresh = template.content.getElementById("tickets-presence");
      const old = document.getElementById("tickets-presence");
      if (fresh && old) old.replaceWith(fresh);
    }
    async function heartbeat() {
      const panel = document.getElementById("tickets-presence");
      if (!panel) return;
      const body = presenceData(typing ? { typing: "y" } : {});
      const headers = { "HX-Request": "true" };
      showPresence(await fetch(panel.dataset.heartbeat, { method: "POST", body, headers }));
    }
    const refreshPresence = debounce(async () => {
      const panel = document.getElementById("tickets-presence");
      if (panel) showPresence(await fetch(panel.dataset.refresh, { headers: { "HX-Request": "true" }, cache: "no-store" }));
    }, 200);
    heartbeat();
    setInterval(heartbeat, HEARTBEAT_MS);
    window.addEventListener("pagehide", () => {
      const panel = document.getElementById("tickets-presence");
      if (panel && navigator.sendBeacon) navigator.sendBeacon(panel.dataset.leave, presenceData({}));
    });

    // The reply: typing is told at once; the draft is saved a second after the last keystroke.
    const saveDraft = debounce((form) => {
      const body = new FormData(form);
      body.delete("send_anyway");
      fetch(form.dataset.draft, { method: "POST", body, headers: { "HX-Request": "true" } });
    }, 1000);
    document.addEventListener("input", (event) => {
      const form = event.target.closest?.("#tickets-reply form");
      if (!form) return;
      saveDraft(form);
      if (event.target.name !== "body") return;
      clearTimeout(typingTimer);
      typingTimer = setTimeout(() => {
        typing = false;
        heartbeat();
      }, TYPING_IDLE_MS);
      if (!typing) {
        typing = true;
        heartbeat();
      }
    });
    // Sending: a draft save still waiting would bring back, after the post, what was just sent.
    document.addEventListener("submit", (event) => {
      if (event.target.closest?.("#tickets-reply")) saveDraft.cancel();
    }, true);
    document.addEventListener("htmx:after:swap", () => {
      const form = document.querySelector("#tickets-reply form");
      if (form && !form.querySelector(".collision") && typing && !form.body?.value) {
        typing = false; // the reply went out
        heartbeat();
      }
    });
    // "Edit" after a collision: put the new replies away and go back to the text.
    document.addEventListener("click", (event) => {
      const edit = event.target.closest?.(".collision-edit");
      if (!edit) return;
      const form = edit.closest("form");
      edit.closest(".collision")?.remove();
      form?.querySelector("textarea")?.focus();
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", follow);
  else follow();
})();
