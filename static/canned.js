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

  let inserting = false;  // a reply was picked: the box is being swapped for the filled one

  document.addEventListener("click", (event) => {
    if (event.target.closest?.(".canned-choice")) inserting = true;
  });

  document.addEventListener("htmx:after:swap", () => {
    const current = list();
    if (inserting) {
      inserting = false;
      close();
      const filled = box();
      filled?.setSelectionRange(filled.value.length, filled.value.length);
      return;
    }
    const active = document.activeElement;
    if (current && !current.hidden && current.querySelector(".canned-choice") && !current.contains(active)) {
      if (active?.id === "canned-open" || active === box()) current.querySelector(".canned-choice").focus();
    }
  });
})();
