// Keep the dashboard current by reloading it every data-refresh seconds, but never while
// someone is using a form on it: a half-written dismissal reason must not be thrown away.
(function () {
  "use strict";
  var seconds = Number(document.body.getAttribute("data-refresh") || 0);
  if (!(seconds > 0)) {
    return;
  }
  var touched = false;
  document.addEventListener("input", function () { touched = true; });
  function busy() {
    var active = document.activeElement;
    return touched || (active && active.form) || document.querySelector("details[open]") !== null;
  }
  function tick() {
    if (!busy() && document.visibilityState === "visible") {
      window.location.replace(window.location.pathname);
      return;
    }
    window.setTimeout(tick, seconds * 1000);
  }
  window.setTimeout(tick, seconds * 1000);
})();
