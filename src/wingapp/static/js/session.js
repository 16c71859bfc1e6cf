// Idle-timeout warning and keep-alive for signed-in pages.
//
// The server ends a session after a period without activity. Reading pages
// does not count (a GET never writes), so this script tells the server when
// the person is really there: a POST to the ping URL on mouse up or key down,
// at most once a minute, never on a timer. Shortly before the session would
// end, a dialog offers to stay signed in or to sign out; when it ends, the
// browser goes to the "timed out" page, which offers to come back here.
// Tabs of the same session share the deadline through local storage.
(function () {
  "use strict";
  var body = document.body;
  var data = body.dataset;
  if (!data.pingUrl) { return; }

  var PING_GAP_MS = 60 * 1000;
  var STORAGE_KEY = "wingapp-session-deadline";
  var warningMs = Number(data.idleWarning) * 1000;
  var deadline = Date.now() + Number(data.expiresIn) * 1000;
  var lastPing = 0;
  var pinging = false;
  var ended = false;

  // "idle" or "absolute": whether activity can still extend the session.
  var endsBecause = data.endsBecause || "idle";
  var dialog = document.getElementById("idle-dialog");
  var reason = document.getElementById("idle-reason");
  var countdown = document.getElementById("idle-countdown");
  var stay = document.getElementById("idle-stay");
  var signOut = document.getElementById("idle-signout");

  function share(newDeadline) {
    deadline = newDeadline;
    try { window.localStorage.setItem(STORAGE_KEY, String(deadline)); } catch (e) { /* private mode */ }
  }

  function shared() {
    try { return Number(window.localStorage.getItem(STORAGE_KEY)) || 0; } catch (e) { return 0; }
  }

  // Another tab of the same session kept it alive: follow its deadline.
  window.addEventListener("storage", function (event) {
    if (event.key === STORAGE_KEY && Number(event.newValue) > deadline) {
      deadline = Number(event.newValue);
      update();
    }
  });

  function post(url, fields) {
    var form = document.createElement("form");
    form.method = "post";
    form.action = url;
    form.hidden = true;
    Object.keys(fields).forEach(function (name) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = fields[name];
      form.appendChild(input);
    });
    document.body.appendChild(form);
    form.submit();
  }

  function here() {
    return window.location.pathname + window.location.search;
  }

  function timedOutPage() {
    var limit = endsBecause === "absolute" ? "&limit=1" : "";
    return data.loggedOutUrl + "?timeout=1" + limit + "&next=" + encodeURIComponent(here());
  }

  function timedOut() {
    if (ended) { return; }
    ended = true;
    // Signing out through the server records the timeout and clears the
    // session there. Not a form: when several tabs of the session time out
    // together, the first one's sign-out replaces the cookie session, so
    // the others' CSRF token is stale and a form would land them on "Form
    // expired". Whatever the answer, the session is over: show the page
    // that says so (the server's redirect would name the same page).
    var fields = new URLSearchParams({ csrf_token: data.csrfToken, reason: "timeout", next: here() });
    fetch(data.logoutUrl, {
      method: "POST",
      credentials: "same-origin",
      redirect: "manual",
      body: fields
    }).catch(function () { /* the server ends it anyway once the time is up */ })
      .then(function () { window.location.assign(timedOutPage()); });
  }

  function ping() {
    if (pinging || ended) { return; }
    pinging = true;
    lastPing = Date.now();
    fetch(data.pingUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": data.csrfToken, "Accept": "application/json" }
    }).then(function (response) {
      if (response.status === 401) {
        ended = true;
        window.location.assign(timedOutPage());
        return null;
      }
      return response.ok ? response.json() : null;
    }).then(function (answer) {
      if (answer && answer.signed_in) {
        endsBecause = answer.ends_because;
        share(Date.now() + answer.expires_in * 1000);
        update();
      }
    }).catch(function () {
      // Offline for a moment: the next activity tries again.
      lastPing = 0;
    }).then(function () {
      pinging = false;
    });
  }

  function activity(event) {
    if (dialog && dialog.contains(event.target)) { return; }
    if (Date.now() - lastPing >= PING_GAP_MS) { ping(); }
  }

  function format(ms) {
    var seconds = Math.max(0, Math.ceil(ms / 1000));
    if (seconds >= 60) {
      var minutes = Math.ceil(seconds / 60);
      return minutes + (minutes === 1 ? " minute" : " minutes");
    }
    return seconds + (seconds === 1 ? " second" : " seconds");
  }

  function update() {
    var left = deadline - Date.now();
    if (left <= 0) {
      timedOut();
      return;
    }
    if (left <= warningMs) {
      countdown.textContent = format(left);
      if (endsBecause === "absolute") {
        // Activity cannot help: the session has reached its longest life.
        reason.textContent = reason.dataset.absolute;
        stay.hidden = true;
      }
      if (!dialog.open) { dialog.showModal(); stay.focus(); }
    } else if (dialog.open) {
      dialog.close();
    }
  }

  document.addEventListener("mouseup", activity, true);
  document.addEventListener("keydown", activity, true);
  stay.addEventListener("click", function () { lastPing = 0; ping(); });
  signOut.addEventListener("click", function () {
    ended = true;
    post(data.logoutUrl, { csrf_token: data.csrfToken });
  });
  // The header's sign-out form ends the session just as well.
  var signOutForm = document.getElementById("signout-form");
  if (signOutForm) {
    signOutForm.addEventListener("submit", function () { ended = true; });
  }
  // Escape would close the dialog without an answer; treat it as "stay".
  dialog.addEventListener("cancel", function (event) { event.preventDefault(); ping(); });

  // The back/forward cache can bring this page back as it was left, timers
  // and all. If its session had ended, what it shows is stale and its
  // buttons are dead: load it again and let the server decide (it sends
  // the sign-in page). Otherwise follow a deadline another tab set meanwhile.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) { return; }
    if (ended) {
      window.location.reload();
      return;
    }
    deadline = Math.max(deadline, shared());
    update();
  });

  share(deadline);
  window.setInterval(update, 1000);
  update();
})();
