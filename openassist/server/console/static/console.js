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
  var intervalMs = Number(region.getAttribute("data-live-interval")) || 1500;

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

// The count of matching machines on the run and send forms: asked again (GET, nothing runs)
// a moment after the choice of targets changes. Without this script the Count button does it.
(function () {
  "use strict";
  var fieldset = document.querySelector("fieldset[data-count-url]");
  var region = document.getElementById("target-count");
  if (!fieldset || !region) {
    return;
  }
  var url = fieldset.getAttribute("data-count-url");
  var timer = null;
  var asked = 0;

  function ask() {
    var params = new URLSearchParams();
    fieldset.querySelectorAll("input").forEach(function (input) {
      if ((input.type === "radio" || input.type === "checkbox") && !input.checked) {
        return;
      }
      if (input.name && input.name !== "preview") {
        params.append(input.name, input.value);
      }
    });
    var mine = ++asked;
    fetch(url + "&" + params.toString(), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok || response.redirected) {
          throw new Error("count refused: " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        if (mine === asked) {
          region.innerHTML = html;
        }
      })
      .catch(function () {});
  }

  function changed(event) {
    // Typing in a way's field chooses that way.
    var how = { pattern: "t-by-name", tag: "t-by-tag", instance_ids: "t-by-id" }[event.target.name];
    if (how && event.target.value) {
      document.getElementById(how).checked = true;
    }
    window.clearTimeout(timer);
    timer = window.setTimeout(ask, 250);
  }

  fieldset.addEventListener("input", changed);
  fieldset.addEventListener("change", changed);
})();
