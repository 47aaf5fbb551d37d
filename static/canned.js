// Canned replies by the reply box: `/` at the start of the box opens the picker, the list takes the
// focus, Escape closes it, and the filled box gets the focus back.
(() => {
  "use strict";
  const list = () => document.getElementById("canned-list");
  const box = () => document.querySelector("#tickets-reply textarea[name=body]");

  function close() {
    const current = list();
    if (current) current.hidden = true;
    box()?.focus();
  }

  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (event.key === "/" && target === box() && target.selectionStart === 0 && target.selectionEnd === 0) {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      event.preventDefault();
      document.getElementById("canned-open")?.click();
    } else if (event.key === "Escape" && list()?.contains(target)) {
      event.preventDefault();
      close();
    }
  });

  document.addEventListener("htmx:after:swap", () => {
    const current = list();
    const active = document.activeElement;
    if (current && !current.hidden && current.querySelector(".canned-choice") && !current.contains(active)) {
      if (active?.id === "canned-open" || active === box()) current.querySelector(".canned-choice").focus();
    }
  });

  document.addEventListener("click", (event) => {
    if (event.target.closest?.(".canned-choice")) {
      // the box is swapped for the filled one: hide the list and focus the box once it is in
      setTimeout(close, 50);
    }
  });
})();
