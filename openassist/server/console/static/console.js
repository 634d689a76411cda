// Live updates: the region with id "live" is fetched again from its data-live-url while the
// hidden marker inside it says data-live-state="on" (the server turns it off once every task
// shown has ended). No framework; the pages work without this script, only without live updates.
(function () {
  "use strict";
  var region = document.getElementById("live");
  if (!region) {
    return;
  }
  var url = region.getAttribute("data-live-url");
  var intervalMs = 1500;

  function active() {
    var marker = region.querySelector("[data-live-state]");
    return marker !== null && marker.getAttribute("data-live-state") === "on";
  }

  function schedule(delay) {
    window.setTimeout(tick, delay || intervalMs);
  }

  function tick() {
    if (!active()) {
      return;
    }
    if (document.hidden) {
      schedule();
      return;
    }
    fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (response.redirected || !response.ok) {
          throw new Error("live update refused: " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        region.setAttribute("aria-busy", "true");
        region.innerHTML = html;
        region.setAttribute("aria-busy", "false");
        schedule();
      })
      .catch(function () {
        schedule(intervalMs * 4);
      });
  }

  schedule();
})();
