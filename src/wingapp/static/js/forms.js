// Forms the server sent back with errors: focus goes to the summary at
// the top (each of its links leads to a field), and a field's message
// goes away as soon as the field is changed. Without this script the
// page works the same, the messages just stay until the next submit.
(function () {
  "use strict";

  // The account forms call their summary form-errors, the admin pages problems.
  var summary = document.getElementById("form-errors") || document.getElementById("problems");
  if (summary) { summary.focus(); }

  document.querySelectorAll("input[aria-invalid='true'], select[aria-invalid='true'], textarea[aria-invalid='true']").forEach(function (field) {
    field.addEventListener("input", function clear() {
      field.removeAttribute("aria-invalid");
      var message = document.getElementById(field.id + "-error");
      if (message) { message.hidden = true; }
      var link = summary && summary.querySelector("a[href='#" + field.id + "']");
      if (link) { link.parentNode.hidden = true; }
      field.removeEventListener("input", clear);
    });
  });
})();
