/* Follows a background job on its page: polls the JSON status named by data-progress-url
   (through poll.js, every data-poll-ms), moves the progress bar, and reloads the page once
   the job has finished so that the server renders the outcome (download link, verification
   summary). Being signed out or a failing server is said in the panel's note. */
(function () {
  "use strict";

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
    window.EideticPoll.follow({
      url: panel.getAttribute("data-progress-url"),
      intervalMs: parseInt(panel.getAttribute("data-poll-ms"), 10) || 1000,
      note: panel.querySelector("[data-progress-note]"),
      loginUrl: panel.getAttribute("data-login-url"),
      waitFirst: true,
      onState: function (state) {
        update(panel, state);
        if (state.finished) { window.location.reload(); }
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var panels = document.querySelectorAll("[data-progress-url]");
    for (var i = 0; i < panels.length; i++) {
      if (panels[i].getAttribute("data-finished") !== "true") { follow(panels[i]); }
    }
  });
})();
