/* Polls a background job's JSON status until the job has finished; shared by progress.js and
   upload.js. Three outcomes besides a state:
   - signed out (the answer is the login page after a redirect, or not JSON; or 401/403): says
     so in the page's live region with a link to sign in again, and stops;
   - gone (404): says so, and stops;
   - transient (5xx, a lost connection, anything else): says so and tries again, waiting a
     little longer each time (up to MAX_WAIT_MS), since a restart or a brief 503 passes.
   No uncaught errors: a reply that cannot be read is one of the above. No libraries. */
(function () {
  "use strict";

  var MAX_WAIT_MS = 30000;
  var SIGNED_OUT = "You are signed out; sign in again to follow this job.";

  // The sign-in page, coming back to this page (not to the JSON that was polled).
  function signInUrl(loginUrl) {
    var next = window.location.pathname + window.location.search;
    return loginUrl + (loginUrl.indexOf("?") < 0 ? "?" : "&") + "next=" + encodeURIComponent(next);
  }

  function say(note, text, link) {
    if (!note) { return; }
    note.textContent = text;
    if (link) {
      note.appendChild(document.createTextNode(" "));
      var anchor = document.createElement("a");
      anchor.href = link.href;
      anchor.textContent = link.text;
      note.appendChild(anchor);
    }
  }

  function pathOf(url) {
    var anchor = document.createElement("a");
    anchor.href = url;
    return anchor.pathname;
  }

  // True when a request was answered by the sign-in page instead (the session had ended).
  function signedOut(request, url) {
    if (request.status === 401 || request.status === 403) { return true; }
    return request.status === 200 && !!request.responseURL && pathOf(request.responseURL) !== pathOf(url);
  }

  // What one answer means: {state} to use, or {outcome: "signed-out" | "gone" | "retry"}.
  function read(request, url) {
    if (signedOut(request, url)) { return { outcome: "signed-out" }; }
    if (request.status === 404) { return { outcome: "gone" }; }
    if (request.status !== 200) { return { outcome: "retry", why: "the server answered HTTP " + request.status }; }
    var type = request.getResponseHeader("Content-Type") || "";
    if (type.indexOf("application/json") < 0) { return { outcome: "signed-out" }; }
    try {
      return { state: JSON.parse(request.responseText) };
    } catch (error) {
      return { outcome: "retry", why: "the server's answer could not be read" };
    }
  }

  /* options: url (the JSON status), intervalMs, note (the live region for messages),
     loginUrl, onState(state) for every state read, onStop() when it gives up for good,
     waitFirst (true: the page already shows the current state, so the first poll waits). */
  function follow(options) {
    var interval = options.intervalMs || 1000;
    var failures = 0;

    function stop(text, link) {
      say(options.note, text, link);
      if (options.onStop) { options.onStop(); }
    }

    function retry(why) {
      failures += 1;
      var wait = Math.min(interval * Math.pow(2, failures), MAX_WAIT_MS);
      say(options.note, "Progress could not be read (" + why + "); trying again in " + Math.round(wait / 1000) + " s. The job carries on meanwhile.");
      window.setTimeout(poll, wait);
    }

    function poll() {
      var request = new XMLHttpRequest();
      request.open("GET", options.url);
      request.setRequestHeader("Accept", "application/json");
      request.onload = function () {
        var answer = read(request, options.url);
        if (answer.outcome === "signed-out") {
          stop(SIGNED_OUT, { href: signInUrl(options.loginUrl || "/accounts/login/"), text: "Sign in again" });
        } else if (answer.outcome === "gone") {
          stop("This job can no longer be found; it may have been deleted.");
        } else if (answer.outcome === "retry") {
          retry(answer.why);
        } else {
          if (failures) { failures = 0; say(options.note, ""); }
          options.onState(answer.state);
          if (!answer.state.finished) { window.setTimeout(poll, interval); }
        }
      };
      request.onerror = function () { retry("the connection was lost"); };
      request.send();
    }

    if (options.waitFirst) { window.setTimeout(poll, interval); } else { poll(); }
  }

  window.EideticPoll = { follow: follow, signedOut: signedOut, signInUrl: signInUrl };
})();
