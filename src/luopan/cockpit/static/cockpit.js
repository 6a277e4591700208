/* luopan cockpit: draw the plotly figures embedded as JSON (plotly.js is served by the app),
   and refresh the panels still computing in the background ([data-pending]). */
(function () {
  "use strict";
  function draw(root) {
    if (!window.Plotly) { return; }
    root.querySelectorAll("[data-fig]").forEach(function (el) {
      var fig;
      try { fig = JSON.parse(el.getAttribute("data-fig")); } catch (e) { return; }
      window.Plotly.newPlot(el, fig.data || [], fig.layout || {},
        { displayModeBar: false, responsive: true, staticPlot: false }).then(function () {
        el.setAttribute("data-drawn", "1");
      });
    });
    document.documentElement.setAttribute("data-charts", "ready");
  }
  function clocks() {
    document.querySelectorAll("[data-deadline]").forEach(function (el) {
      var end = Date.parse(el.getAttribute("data-deadline"));
      var now = Date.parse(el.getAttribute("data-now"));
      var left = Math.max(0, end - now);
      var h = Math.floor(left / 3600000), m = Math.floor(left % 3600000 / 60000);
      el.textContent = h + ":" + (m < 10 ? "0" : "") + m;
    });
  }
  var tries = 0;
  function refreshPending() {
    var waiting = document.querySelectorAll("[data-pending][id]");
    if (!waiting.length || tries > 120) { return; }
    tries += 1;
    window.setTimeout(function () {
      fetch(window.location.href, { credentials: "same-origin", headers: { accept: "text/html" } })
        .then(function (r) { return r.ok ? r.text() : ""; })
        .then(function (text) {
          if (text) {
            var doc = new DOMParser().parseFromString(text, "text/html");
            waiting.forEach(function (el) {
              var fresh = doc.getElementById(el.id);
              if (fresh && !fresh.hasAttribute("data-pending")) {
                var node = document.importNode(fresh, true);
                el.replaceWith(node);
                draw(node);
              }
            });
          }
          refreshPending();
        })
        .catch(refreshPending);
    }, 2000);
  }
  document.addEventListener("DOMContentLoaded", function () {
    draw(document); clocks(); refreshPending();
  });
})();
