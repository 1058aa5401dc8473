// resque-impl dashboard: live refresh of page bodies, confirmation of destructive actions, and the
// overview's throughput chart.
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

  // The overview's throughput chart: processed and failed jobs per minute, read from the JSON of
  // /api/job-metrics and drawn as SVG bars. A live refresh replaces the chart's element, so it is
  // drawn again at once from the last data, then from fresh data.
  var SVG = "http://www.w3.org/2000/svg";
  var HEIGHT = 140;
  var AXIS = 16;
  var lastChartData = null;

  function svg(name, attributes, text) {
    var element = document.createElementNS(SVG, name);
    Object.keys(attributes).forEach(function (key) {
      element.setAttribute(key, attributes[key]);
    });
    if (text !== undefined) {
      element.textContent = text;
    }
    return element;
  }

  function clockOf(minute) {
    // "YYYYMMDDHHMM" (UTC) -> "HH:MM UTC"
    return minute.slice(8, 10) + ":" + minute.slice(10, 12) + " UTC";
  }

  function drawChart(holder, data) {
    var minutes = data.per_minute || [];
    var most = 1;
    minutes.forEach(function (m) {
      most = Math.max(most, m.processed);
    });
    // Drawn at the element's own width, so that labels are not stretched.
    var width = Math.max(holder.clientWidth, 240);
    var plot = HEIGHT - AXIS;
    var step = width / Math.max(minutes.length, 1);
    var root = svg("svg", { viewBox: "0 0 " + width + " " + HEIGHT, class: "chart" });
    minutes.forEach(function (m, index) {
      var x = index * step + 1;
      var barWidth = Math.max(step - 2, 1);
      var failed = Math.min(m.failed, m.processed);
      var okHeight = ((m.processed - failed) / most) * plot;
      var badHeight = (failed / most) * plot;
      var group = svg("g", { class: "minute" });
      group.appendChild(svg("title", {}, clockOf(m.minute) + ": " + m.processed + " processed, " + m.failed + " failed"));
      group.appendChild(svg("rect", { class: "bar-ok", x: x, y: plot - okHeight - badHeight, width: barWidth, height: okHeight }));
      group.appendChild(svg("rect", { class: "bar-bad", x: x, y: plot - badHeight, width: barWidth, height: badHeight }));
      root.appendChild(group);
    });
    root.appendChild(svg("line", { class: "axis", x1: 0, y1: plot, x2: width, y2: plot }));
    if (minutes.length) {
      root.appendChild(svg("text", { class: "tick", x: 2, y: HEIGHT - 3 }, clockOf(minutes[0].minute)));
      root.appendChild(svg("text", { class: "tick end", x: width - 2, y: HEIGHT - 3 }, clockOf(minutes[minutes.length - 1].minute)));
    }
    root.appendChild(svg("text", { class: "tick", x: 2, y: 12 }, most + " / min"));
    holder.textContent = "";
    holder.appendChild(root);
    var total = 0;
    var failedTotal = 0;
    minutes.forEach(function (m) {
      total += m.processed;
      failedTotal += m.failed;
    });
    holder.setAttribute("data-processed", String(total));
    holder.setAttribute("aria-label", total + " jobs processed and " + failedTotal + " failed in the last " + minutes.length + " minutes");
  }

  function updateChart() {
    var holder = document.querySelector("[data-chart-url]");
    if (!holder) {
      return;
    }
    if (lastChartData) {
      drawChart(holder, lastChartData);
    }
    fetch(holder.getAttribute("data-chart-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        lastChartData = data;
        var current = document.querySelector("[data-chart-url]");
        if (current) {
          drawChart(current, data);
        }
      })
      .catch(function () {
        holder.classList.add("chart-error");
      });
  }

  document.addEventListener("live:updated", updateChart);

  document.addEventListener("DOMContentLoaded", function () {
    var live = document.getElementById("live");
    if (live) {
      setupLive(live);
    }
    updateChart();
  });
})();
