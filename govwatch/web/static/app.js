// govwatch pages: draw charts from the JSON embedded in the page (ECharts served by this site;
// a click on a bar or a point opens the list it counts),
// check a custom rule while it is typed, and follow background jobs' progress. Every chart
// also has a table; without this script the pages still work.
(function () {
  "use strict";
  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  // Every chart element carries the link of the list it counts (href, new_href, …: built by
  // pages/dashboard.py charts()); a click follows it, as the numbers in the tables do.
  function follow(params) {
    var d = params.data || {};
    var link = d.href;
    if (link) { window.location.assign(link); }
  }
  function point(value, href, label) {
    return { value: value, href: href, name: label };
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
            { name: "新增", type: "line", color: "#a5161c", symbolSize: 8, showAllSymbol: true,
              data: rows.map(function (r) { return point(r.new, r.new_href, r.day); }) },
            { name: "消除", type: "line", color: "#1f5fa8", symbolSize: 8, showAllSymbol: true,
              data: rows.map(function (r) { return point(r.closed, r.closed_href, r.day); }) }
          ]
        };
      } else if (kind === "rates") {
        var rates = data("data-rates") || [];
        option = {
          aria: { enabled: true }, tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null || v === undefined ? "—" : v + "%"; } },
          legend: { data: ["超期率（按申请日）", "按时办结率（按办结日）"], top: 0 }, grid: { left: 44, right: 16, top: 32, bottom: 28 },
          xAxis: { type: "category", data: rates.map(function (r) { return r.day.slice(5); }) },
          yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
          series: [
            { name: "超期率（按申请日）", type: "line", color: "#a5161c", symbolSize: 8, showAllSymbol: true, connectNulls: false,
              data: rates.map(function (r) { return point(r.overdue_rate, r.overdue_href, r.day); }) },
            { name: "按时办结率（按办结日）", type: "line", color: "#2e7d32", symbolSize: 8, showAllSymbol: true, connectNulls: false,
              data: rates.map(function (r) { return point(r.ontime_rate, r.ontime_href, r.day); }) }
          ]
        };
      } else {
        var bars = data(el.getAttribute("data-source")) || [];
        option = {
          aria: { enabled: true }, tooltip: {}, grid: { left: 110, right: 16, top: 8, bottom: 24 },
          xAxis: { type: "value", minInterval: 1 },
          yAxis: { type: "category", data: bars.map(function (b) { return b.name; }) },
          series: [{ type: "bar", color: "#8f1d21", cursor: "pointer",
            data: bars.map(function (b) { return point(b.value, b.href, b.name); }) }]
        };
      }
      chart.setOption(option);
      chart.on("click", follow);
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
