// resque-impl dashboard: live refresh of page bodies, confirmation of destructive actions, and the
// overview's throughput charts.
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

  // The throughput charts: processed and failed jobs per minute or per day, read from the JSON of
  // /api/job-metrics (per_minute, or one class's: selected.per_minute) or /api/history (points) and
  // drawn as SVG bars, with the deploys of the window (deploys) as marker lines. A live
  // refresh replaces the charts' elements, so each is drawn again at once from its last data, then
  // from fresh data.
  var SVG = "http://www.w3.org/2000/svg";
  var HEIGHT = 140;
  var AXIS = 16;
  var lastChartData = {};

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

  function labelOf(at) {
    // "YYYYMMDDHHMM" (UTC) -> "HH:MM UTC"; "YYYYMMDD" -> "YYYY-MM-DD"
    if (at.length === 8) {
      return at.slice(0, 4) + "-" + at.slice(4, 6) + "-" + at.slice(6, 8);
    }
    return at.slice(8, 10) + ":" + at.slice(10, 12) + " UTC";
  }

  function pointsOf(data, series) {
    if (series === "selected") {
      return { unit: "minute", words: ["runs", "failed"], points: minutePoints((data.selected || {}).per_minute) };
    }
    if (data.points) {
      return { unit: data.unit, points: data.points };
    }
    return { unit: "minute", points: minutePoints(data.per_minute) };
  }

  function minutePoints(perMinute) {
    return (perMinute || []).map(function (m) {
      return { at: m.minute, processed: m.processed, failed: m.failed };
    });
  }

  function drawChart(holder, data) {
    var series = pointsOf(data, holder.getAttribute("data-chart-series"));
    var points = series.points;
    var words = series.words || ["jobs processed", "failed"];
    var most = 1;
    points.forEach(function (p) {
      most = Math.max(most, p.processed);
    });
    // Drawn at the element's own width, so that labels are not stretched.
    var width = Math.max(holder.clientWidth, 240);
    var plot = HEIGHT - AXIS;
    var step = width / Math.max(points.length, 1);
    var gap = step > 4 ? 2 : 0;
    var root = svg("svg", { viewBox: "0 0 " + width + " " + HEIGHT, class: "chart" });
    points.forEach(function (p, index) {
      var x = index * step + gap / 2;
      var barWidth = Math.max(step - gap, 0.5);
      var failed = Math.min(p.failed, p.processed);
      var okHeight = ((p.processed - failed) / most) * plot;
      var badHeight = (failed / most) * plot;
      var group = svg("g", { class: "minute" });
      group.appendChild(svg("title", {}, labelOf(p.at) + ": " + p.processed + " " + words[0] + ", " + p.failed + " " + words[1]));
      group.appendChild(svg("rect", { class: "bar-ok", x: x, y: plot - okHeight - badHeight, width: barWidth, height: okHeight }));
      group.appendChild(svg("rect", { class: "bar-bad", x: x, y: plot - badHeight, width: barWidth, height: badHeight }));
      root.appendChild(group);
    });
    root.appendChild(svg("line", { class: "axis", x1: 0, y1: plot, x2: width, y2: plot }));
    var marked = drawDeploys(root, data.deploys, points, step, plot);
    if (points.length) {
      root.appendChild(svg("text", { class: "tick", x: 2, y: HEIGHT - 3 }, labelOf(points[0].at)));
      root.appendChild(svg("text", { class: "tick end", x: width - 2, y: HEIGHT - 3 }, labelOf(points[points.length - 1].at)));
    }
    root.appendChild(svg("text", { class: "tick", x: 2, y: 12 }, most + (series.unit === "day" ? " / day" : " / min")));
    holder.textContent = "";
    holder.appendChild(root);
    var total = 0;
    var failedTotal = 0;
    points.forEach(function (p) {
      total += p.processed;
      failedTotal += p.failed;
    });
    holder.setAttribute("data-processed", String(total));
    holder.setAttribute("data-points", String(points.length));
    holder.setAttribute("data-deploys", String(marked));
    holder.setAttribute("aria-label", total + " " + words[0] + " and " + failedTotal + " " + words[1] + " in the last " + points.length + " " + series.unit + "s");
  }

  // Deploy markers (resque-impl mark-deploy): a line through the bar of the minute or day each falls
  // in, named by a tooltip, so that a change in the bars can be told apart from new code.
  function drawDeploys(root, deploys, points, step, plot) {
    var index = {};
    points.forEach(function (p, i) {
      index[p.at] = i;
    });
    var marked = 0;
    (deploys || []).forEach(function (deploy) {
      var i = index[deploy.point];
      if (i === undefined) {
        return;
      }
      var x = i * step + step / 2;
      var group = svg("g", { class: "deploy" });
      group.appendChild(svg("title", {}, "deploy " + deploy.label + " at " + new Date(deploy.at * 1000).toISOString()));
      group.appendChild(svg("line", { class: "deploy-line", x1: x, y1: 0, x2: x, y2: plot }));
      // A wider invisible line, so that the tooltip does not need a one-pixel aim.
      group.appendChild(svg("line", { class: "deploy-hit", x1: x, y1: 0, x2: x, y2: plot }));
      root.appendChild(group);
      marked += 1;
    });
    return marked;
  }

  function updateChart(holder) {
    var url = holder.getAttribute("data-chart-url");
    if (lastChartData[url]) {
      drawChart(holder, lastChartData[url]);
    }
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        lastChartData[url] = data;
        document.querySelectorAll("[data-chart-url]").forEach(function (current) {
          if (current.getAttribute("data-chart-url") === url) {
            drawChart(current, data);
          }
        });
      })
      .catch(function () {
        holder.classList.add("chart-error");
      });
  }

  function updateCharts() {
    document.querySelectorAll("[data-chart-url]").forEach(updateChart);
  }

  document.addEventListener("live:updated", updateCharts);

  document.addEventListener("DOMContentLoaded", function () {
    var live = document.getElementById("live");
    if (live) {
      setupLive(live);
    }
    updateCharts();
  });
})();
