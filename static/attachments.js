// Forms that carry files (data-upload-form: the reply and new-ticket forms), enhanced: files may be
// dropped on the file field (data-file-drop), and an upload shows its progress. Without this script
// the forms post as plain multipart/form-data and everything still works.
(function () {
  "use strict";

  function dropZone(event) {
    return event.target.closest ? event.target.closest("[data-file-drop]") : null;
  }

  function addFiles(zone, files) {
    var input = zone.querySelector('input[type="file"]');
    if (!input || !files.length) return;
    var all = new DataTransfer();
    Array.prototype.forEach.call(input.files, function (file) { all.items.add(file); });
    Array.prototype.forEach.call(files, function (file) { all.items.add(file); });
    input.files = all.files;
  }

  document.addEventListener("dragover", function (event) {
    var zone = dropZone(event);
    if (!zone) return;
    event.preventDefault();
    zone.classList.add("dragging");
  });
  document.addEventListener("dragleave", function (event) {
    var zone = dropZone(event);
    if (zone) zone.classList.remove("dragging");
  });
  document.addEventListener("drop", function (event) {
    var zone = dropZone(event);
    if (!zone) return;
    event.preventDefault();
    zone.classList.remove("dragging");
    addFiles(zone, event.dataTransfer.files);
  });

  // The element the server answers a refused form with: the form's panel (#tickets-reply) or itself.
  function host(form) {
    return form.id ? form : form.closest("[id]");
  }

  function showRefusal(form, xhr) {
    var page = new DOMParser().parseFromString(xhr.responseText, "text/html");
    var current = host(form);
    var fresh = current && page.getElementById(current.id);
    if (!fresh) {
      window.alert("The upload failed (" + xhr.status + "). Please try again.");
      return;
    }
    current.replaceWith(fresh);
    if (window.htmx && window.htmx.process) window.htmx.process(fresh);
  }

  // With files chosen, post the form ourselves to watch the upload's progress (fetch cannot); the
  // server answers as to a plain browser: a redirect when done, the form with its errors when not.
  window.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("[data-upload-form]")) return;
    var input = form.querySelector('input[type="file"]');
    if (!input || !input.files.length) return;
    event.preventDefault();
    event.stopPropagation();
    var bar = form.querySelector(".upload-progress");
    var button = form.querySelector('button[type="submit"]');
    if (button) button.disabled = true;
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.upload.addEventListener("progress", function (progress) {
      if (bar && progress.lengthComputable) {
        bar.hidden = false;
        bar.value = Math.round((100 * progress.loaded) / progress.total);
      }
    });
    xhr.addEventListener("load", function () {
      if (xhr.status < 400) {
        window.location.assign(xhr.responseURL);
      } else {
        showRefusal(form, xhr);
      }
    });
    xhr.addEventListener("error", function () {
      if (button) button.disabled = false;
      if (bar) bar.hidden = true;
      window.alert("The upload was interrupted. Please try again.");
    });
    xhr.send(new FormData(form));
  }, true);
})();
