// resque-impl dashboard: live refresh of page bodies and confirmation of destructive actions.
// Served from the package (no CDN); the Content-Security-Policy allows no inline script.
(function () {
  "use strict";

  // Forms with data-confirm ask before submitting (remove queue, clear failures, ...).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  function setupLive(container) {
    var url = container.getAttribute("data-live-url");
    var seconds = parseInt(container.getAttribute("data-live-interval"), 10);
    if (!url || !(seconds > 0)) {
      return;
    }
    var paused = false;
    var inFlight = false;
    var bar = document.createElement("div");
    bar.className = "live-bar";
    var dot = document.createElement("span");
    dot.className = "live-dot";
    var label = document.createElement("span");
    label.className = "live-label";
    label.textContent = "Live · every " + seconds + "s";
    var toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "btn btn-plain btn-small";
    toggle.textContent = "Pause";
    toggle.addEventListener("click", function () {
      paused = !paused;
      toggle.textContent = paused ? "Resume" : "Pause";
      bar.classList.toggle("paused", paused);
      label.textContent = paused ? "Paused" : "Live · every " + seconds + "s";
    });
    bar.appendChild(dot);
    bar.appendChild(label);
    bar.appendChild(toggle);
    container.parentNode.insertBefore(bar, container);

    function userIsBusy() {
      // Do not swap the page under someone reading a trace or typing in a form.
      var active = document.activeElement;
      if (active && container.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName)) {
        return true;
      }
      // Nor under a pointer resting on an action: the row beneath it could become another row
      // (the delayed page's rows move up as the scheduler queues the earliest).
      return container.querySelector("details[open], form:hover") !== null;
    }

    function refresh() {
      if (paused || inFlight || document.hidden || userIsBusy()) {
        return;
      }
      inFlight = true;
      fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("HTTP " + response.status);
          }
          return response.text();
        })
        .then(function (html) {
          // The fragment is rendered by the server with every value escaped.
          container.innerHTML = html;
          bar.classList.remove("error");
          label.textContent = "Live · updated " + new Date().toLocaleTimeString();
          container.dispatchEvent(new CustomEvent("live:updated", { bubbles: true }));
        })
        .catch(function (error) {
          bar.classList.add("error");
          label.textContent = "Cannot refresh (" + error.message + "); retrying";
        })
        .finally(function () {
          inFlight = false;
        });
    }

    window.setInterval(refresh, seconds * 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var live = document.getElementById("live");
    if (live) {
      setupLive(live);
    }
  });
})();
