// Upload with a real progress bar, then follow the import job until it finishes.
// Without JavaScript the form posts normally and the job page refreshes itself.
(function () {
  "use strict";

  var POLL_MS = 700;

  function show(element, text) {
    element.hidden = false;
    element.textContent = text;
  }

  function percentText(percent) {
    return Math.round(percent) + "%";
  }

  function setBar(bar, percent) {
    bar.value = percent;
    bar.textContent = percentText(percent);
  }

  // Polls the job's status JSON (poll.js) and calls back on every state until it is finished;
  // being signed out, or a failing server, is said in the note.
  function follow(element, statusUrl, note, onState, onStop) {
    window.EideticPoll.follow({
      url: statusUrl,
      intervalMs: parseInt(element.getAttribute("data-poll-ms"), 10) || POLL_MS,
      note: note,
      loginUrl: element.getAttribute("data-login-url"),
      onState: onState,
      onStop: onStop
    });
  }

  function describe(state) {
    if (state.status === "done") {
      return "Done: " + state.created + " new record(s), " + state.duplicates + " already in your vault.";
    }
    if (state.total) { return state.status_label + ": " + state.processed + " of " + state.total + " records."; }
    return state.status_label + "…";
  }

  function errorText(error, filename) {
    return (filename ? filename + " was not imported" : "Not imported") +
      "; nothing from it was stored. " + (error.message || error.code);
  }

  function initUploadForm(form) {
    var panel = document.getElementById("upload-progress");
    var uploadBar = document.getElementById("upload-bar");
    var importBar = document.getElementById("import-bar");
    var status = document.getElementById("upload-status");
    var errorBox = document.getElementById("upload-error");
    var button = form.querySelector("button[type=submit]");

    function fail(message) {
      show(errorBox, message);
      button.disabled = false;
      errorBox.setAttribute("tabindex", "-1"); // focusable, so keyboard and screen reader users land on it
      errorBox.focus();
    }

    form.addEventListener("submit", function (event) {
      var fileInput = form.querySelector("input[type=file]");
      if (!fileInput || !fileInput.files.length) { return; } // let the server explain what is missing
      event.preventDefault();
      errorBox.hidden = true;
      panel.hidden = false;
      button.disabled = true;
      setBar(uploadBar, 0);
      setBar(importBar, 0);
      status.textContent = "Uploading…";

      var request = new XMLHttpRequest();
      request.open("POST", form.action);
      request.setRequestHeader("Accept", "application/json");
      request.upload.onprogress = function (progress) {
        if (progress.lengthComputable) {
          var percent = (100 * progress.loaded) / progress.total;
          setBar(uploadBar, percent);
          status.textContent = "Uploading… " + percentText(percent);
        }
      };
      request.onload = function () {
        if (window.EideticPoll.signedOut(request, form.action)) {
          status.textContent = "";
          fail("You are signed out, so nothing was uploaded. Sign in again, then choose the file again.");
          var link = document.createElement("a");
          link.href = window.EideticPoll.signInUrl(form.getAttribute("data-login-url") || "/accounts/login/");
          link.textContent = " Sign in again";
          errorBox.appendChild(link);
          return;
        }
        var body;
        try { body = JSON.parse(request.responseText); } catch (e) { body = null; }
        if (!body) { fail("The server answered unexpectedly (HTTP " + request.status + "). Nothing was stored."); return; }
        if (body.error) { setBar(uploadBar, 100); status.textContent = ""; fail(errorText(body.error)); return; }
        setBar(uploadBar, 100);
        follow(form, body.status_url, status, function (state) {
          setBar(importBar, state.percent);
          status.textContent = describe(state);
          if (state.finished) {
            button.disabled = false;
            if (state.error) { fail(errorText(state.error, state.filename)); return; }
            var link = document.createElement("a");
            link.href = body.job_url;
            link.textContent = " See the import";
            status.appendChild(link);
            form.reset();
          }
        }, function () { button.disabled = false; });
      };
      request.onerror = function () { fail("The upload failed: the connection was lost. Nothing was stored."); };
      request.send(new FormData(form));
    });
  }

  function initJobPage(job) {
    if (job.getAttribute("data-finished") === "true") { return; }
    var bar = document.getElementById("job-bar");
    var counts = document.getElementById("job-counts");
    var badge = document.getElementById("job-status");
    var errorBox = document.getElementById("job-error");
    follow(job, job.getAttribute("data-status-url"), document.getElementById("job-note"), function (state) {
      setBar(bar, state.percent);
      counts.textContent = describe(state);
      badge.textContent = state.status_label;
      if (state.error) { show(errorBox, errorText(state.error, state.filename)); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-upload]");
    if (form) { initUploadForm(form); }
    var job = document.getElementById("job");
    if (job) { initJobPage(job); }
  });
})();
