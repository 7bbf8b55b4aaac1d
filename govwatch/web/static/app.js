// govwatch pages: draw charts from the JSON embedded in the page (ECharts served by this site),
// check a custom rule while it is typed, and follow background jobs' progress. Every chart
// also has a table; without this script the pages still work.
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
  // Background jobs (templates/_job.html): while one is queued or running, ask
  // /api/v1/jobs/{id} every second and move its bar; once finished show its result or error.
  document.querySelectorAll("[data-job]").forEach(function (card) {
    if (card.getAttribute("data-polling")) { return; }
    card.setAttribute("data-polling", "1");
    var id = card.getAttribute("data-job");
    var q = function (sel) { return card.querySelector(sel); };
    var reload = q(".job-reload");
    if (reload) { reload.hidden = true; }
    var show = function (job) {
      var running = job.status === "queued" || job.status === "running";
      card.setAttribute("data-status", job.status);
      var status = q(".job-status");
      status.textContent = job.status_name;
      status.className = "job-status s-" + job.status;
      q(".job-stage").textContent = running ? job.stage_name : "";
      q(".job-count").textContent = job.status === "running" && job.done !== null && job.total ?
        "（第 " + job.done + "/" + job.total + " 步）" : "";
      var bar = q(".job-bar");
      if (job.percent === null) { bar.removeAttribute("value"); } else { bar.value = job.percent; }
      q(".job-percent").textContent = job.percent === null ? "" : job.percent + "%";
      q(".job-result").textContent = job.summary_text;
      var error = q(".job-error");
      error.textContent = job.error;
      error.hidden = !job.error;
      return running;
    };
    var poll = function () {
      fetch("/api/v1/jobs/" + encodeURIComponent(id), {
        credentials: "same-origin", headers: { Accept: "application/json" }
      }).then(function (r) {
        if (!r.ok) { throw new Error(String(r.status)); }
        return r.json();
      }).then(function (job) {
        if (show(job)) { setTimeout(poll, 1000); }
      }).catch(function () { setTimeout(poll, 3000); });
    };
    var state = card.getAttribute("data-status");
    if (state === "queued" || state === "running") { poll(); }
  });
})();
