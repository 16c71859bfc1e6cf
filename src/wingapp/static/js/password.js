// Show-password toggles and the strength meter. The page works without
// this script; it only adds feedback while typing.
(function () {
  "use strict";

  document.querySelectorAll("button.reveal[data-reveal]").forEach(function (button) {
    var input = document.getElementById(button.dataset.reveal);
    if (!input) { return; }
    button.hidden = false;
    button.setAttribute("aria-pressed", "false");
    button.setAttribute("aria-controls", input.id);
    button.addEventListener("click", function () {
      var show = input.type === "password";
      input.type = show ? "text" : "password";
      button.textContent = show ? "Hide" : "Show";
      button.setAttribute("aria-pressed", String(show));
      input.focus();
    });
  });

  var input = document.querySelector("input[data-strength-url]");
  if (!input) { return; }
  var meter = document.getElementById("password-meter");
  var feedback = document.getElementById("password-feedback");
  var timer = null;
  var sequence = 0;

  function valueOf(id) {
    var field = document.getElementById(id);
    return field ? field.value : "";
  }

  function check() {
    var mine = ++sequence;
    if (!input.value) {
      meter.hidden = true;
      feedback.textContent = "";
      return;
    }
    fetch(input.dataset.strengthUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRF-Token": input.dataset.csrfToken
      },
      body: JSON.stringify({ password: input.value, login: valueOf("login"), email: valueOf("email") })
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (answer) {
      if (!answer || mine !== sequence) { return; }
      meter.hidden = false;
      meter.value = answer.score;
      if (answer.acceptable) {
        feedback.textContent = "Strong enough.";
      } else {
        feedback.textContent = answer.problems[0] || answer.warning || "Too easy to guess.";
      }
    }).catch(function () { /* the server checks again on submit */ });
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(check, 250);
  });
})();
