// govwatch pages: draw charts from the JSON embedded in the page (ECharts served by this site),
// and check a custom rule while it is typed. Every chart also has a table; without this
// script the pages still work.
(function () {
  "use strict";
  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  if (window.echarts) {
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var chart = window.echarts.init(el, null, { renderer: "svg" });
      var kind = el.getAttribute("data-chart");
      var option;
      if (kind === "trend") {
        var rows = data("data-trend") || [];
        // ECharts 6 puts a legend at the bottom by default: keep it above the grid, where
        // grid.top leaves room for it, instead of over the axis labels
        option = {
          aria: { enabled: true }, tooltip: { trigger: "axis" },
          legend: { data: ["新增", "消除"], top: 0 }, grid: { left: 40, right: 16, top: 32, bottom: 28 },
          xAxis: { type: "category", data: rows.map(function (r) { return r.day.slice(5); }) },
          yAxis: { type: "value", minInterval: 1 },
          series: [
            { name: "新增", type: "line", data: rows.map(function (r) { return r.new; }), color: "#a5161c" },
            { name: "消除", type: "line", data: rows.map(function (r) { return r.closed; }), color: "#1f5fa8" }
          ]
        };
      } else {
        var obj = data(el.getAttribute("data-source")) || {};
        var keys = Object.keys(obj);
        option = {
          aria: { enabled: true }, tooltip: {}, grid: { left: 110, right: 16, top: 8, bottom: 24 },
          xAxis: { type: "value", minInterval: 1 }, yAxis: { type: "category", data: keys },
          series: [{ type: "bar", data: keys.map(function (k) { return obj[k]; }), color: "#8f1d21" }]
        };
      }
      chart.setOption(option);
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }
  var form = document.getElementById("custom-form");
  if (form) {
    var msg = document.getElementById("c-msg");
    var timer = null;
    var check = function () {
      var body = new URLSearchParams(new FormData(form));
      fetch(form.getAttribute("data-check"), {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "X-CSRF-Token": form.querySelector("[name=csrf_token]").value }
      }).then(function (r) { return r.json(); }).then(function (answer) {
        msg.textContent = answer.message;
        msg.className = "check " + (answer.ok ? "ok" : "bad");
      }).catch(function () {});
    };
    form.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(check, 300);
    });
  }
})();
