/* Follows a background job on its page: polls the JSON status named by data-progress-url,
   moves the progress bar, and reloads the page once the job has finished so that the
   server renders the outcome (download link, verification summary). No libraries. */
(function () {
  "use strict";
  var POLL_MS = 1000;

  function update(panel, state) {
    var bar = panel.querySelector("progress");
    var text = panel.querySelector("[data-progress-text]");
    var status = panel.querySelector("[data-progress-status]");
    var unit = panel.getAttribute("data-unit") || "items";
    if (bar) { bar.value = state.percent; bar.textContent = state.percent + "%"; }
    if (text) { text.textContent = state.processed + " of " + state.total + " " + unit + " (" + state.percent + "%)"; }
    if (status) { status.textContent = state.status_label; status.className = "badge status-" + state.status; }
  }

  function follow(panel) {
    var url = panel.getAttribute("data-progress-url");
    function poll() {
      var request = new XMLHttpRequest();
      request.open("GET", url);
      request.setRequestHeader("Accept", "application/json");
      request.onload = function () {
        // Gone or forbidden (signed out): stop; anything else (a restart, a 503): try again later.
        if (request.status === 403 || request.status === 404) { return; }
        if (request.status !== 200) { window.setTimeout(poll, POLL_MS * 5); return; }
        var state = JSON.parse(request.responseText);
        update(panel, state);
        if (state.finished) { window.location.reload(); } else { window.setTimeout(poll, POLL_MS); }
      };
      request.onerror = function () { window.setTimeout(poll, POLL_MS * 5); };
      request.send();
    }
    window.setTimeout(poll, POLL_MS);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var panels = document.querySelectorAll("[data-progress-url]");
    for (var i = 0; i < panels.length; i++) {
      if (panels[i].getAttribute("data-finished") !== "true") { follow(panels[i]); }
    }
  });
})();
