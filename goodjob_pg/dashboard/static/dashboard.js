// goodjob-pg dashboard: live polling (?poll=N) and confirmations. No build step.
(function () {
  "use strict";
  var body = document.body;
  var seconds = parseInt(body.getAttribute("data-poll") || "0", 10);

  // Reload the page's <main> every N seconds, keeping the scroll position.
  function refresh() {
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("main");
        if (fresh) { document.getElementById("main").replaceWith(fresh); }
      })
      .catch(function () { /* try again next tick */ })
      .finally(function () { window.setTimeout(refresh, seconds * 1000); });
  }
  if (seconds > 0) { window.setTimeout(refresh, seconds * 1000); }

  // The toggle adds or removes ?poll=10 (a stable, shareable URL).
  var toggle = document.getElementById("poll-toggle");
  if (toggle) {
    toggle.addEventListener("change", function () {
      var url = new URL(window.location.href);
      if (toggle.checked) { url.searchParams.set("poll", String(seconds || 10)); }
      else { url.searchParams.delete("poll"); }
      window.location.assign(url.toString());
    });
  }

  // Buttons with data-confirm ask first; filter forms leave empty fields out of the URL.
  document.addEventListener("submit", function (event) {
    if (event.target.method === "get") {
      event.target.querySelectorAll("input, select").forEach(function (field) {
        if (!field.value) { field.removeAttribute("name"); }
      });
    }
    var button = event.submitter || event.target.querySelector("button[data-confirm]");
    var message = button && button.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });
})();
