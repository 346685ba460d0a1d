// The fleet page's timelines: each host's failing checks over the window,
// one stepped line per check, drawn with the vendored uPlot. The data is
// the page's own (#fleet-timelines); nothing is fetched.
"use strict";
(function () {
  var node = document.getElementById("fleet-timelines");
  if (!node || typeof uPlot === "undefined") {
    return;
  }
  var data = JSON.parse(node.textContent || "{}");
  if (!data.hosts) {
    return;
  }
  // Height on the chart: worse is higher; UNKNOWN between WARNING and
  // CRITICAL, as the agent ranks statuses.
  var level = { 0: 0, 1: 1, 3: 2, 2: 3 };
  var names = ["OK", "WARNING", "UNKNOWN", "CRITICAL"];
  var colours = ["#b3261e", "#a15c00", "#5b4b9a", "#0b6e99", "#6f42c1", "#1e7b34", "#8a4b08", "#3d3d3d"];
  var step = 60;
  var xs = [];
  for (var t = data.start; t <= data.end; t += step) {
    xs.push(t);
  }
  function series(spells) {
    var ys = new Array(xs.length).fill(0);
    spells.forEach(function (sp) {
      var from = Date.parse(sp.from) / 1000, to = Date.parse(sp.to) / 1000;
      for (var i = 0; i < xs.length; i++) {
        if (xs[i] >= from - step && xs[i] <= to) {
          ys[i] = Math.max(ys[i], level[sp.value]);
        }
      }
    });
    return ys;
  }
  data.hosts.forEach(function (host) {
    var box = document.querySelector('.timeline[data-instance="' + CSS.escape(host.instance) + '"]');
    if (!box) {
      return;
    }
    var cols = [xs], opts = [{}];
    host.checks.forEach(function (c, i) {
      cols.push(series(c.spells));
      opts.push({
        label: c.check,
        stroke: colours[i % colours.length],
        width: 2,
        paths: uPlot.paths.stepped({ align: 1 }),
        value: function (u, v) { return v == null ? "" : names[v]; },
      });
    });
    var heading = document.createElement("div");
    heading.className = "timeline-title";
    heading.textContent = "Failing checks over the last 24 hours";
    box.appendChild(heading);
    new uPlot({
      width: Math.min(box.clientWidth || 900, 1100),
      height: 170,
      series: opts,
      scales: { y: { range: [0, 3.2] } },
      axes: [
        {},
        { splits: function () { return [0, 1, 2, 3]; }, values: function (u, vals) { return vals.map(function (v) { return names[v] || ""; }); }, size: 80 },
      ],
      legend: { live: true },
    }, cols, box);
    box.dataset.drawn = "true";
  });
})();
