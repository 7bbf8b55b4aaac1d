// Evaluation round charts (pages/evaluations.py): a unit's history over its rounds and a
// round's score distribution, drawn with the site's own ECharts from the JSON in the page.
// A click on a point or a bar opens what it counts; every chart has a table beside it.
(function () {
  "use strict";
  if (!window.echarts) { return; }
  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : [];
  }
  function follow(params) {
    var d = params.data || {};
    if (d.href) { window.location.assign(d.href); }
  }
  var palette = ["#1f5fa8", "#2e7d32", "#b26a00", "#6a1b9a", "#00838f", "#5d4037", "#ad1457"];
  document.querySelectorAll("[data-round-chart]").forEach(function (el) {
    var kind = el.getAttribute("data-round-chart");
    var rows = data(el.getAttribute("data-source"));
    var chart = window.echarts.init(el, null, { renderer: "svg" });
    var option;
    if (kind === "history") {
      var names = rows.map(function (r) { return r.name; });
      var dims = [];
      rows.forEach(function (r) {
        Object.keys(r.dimensions).forEach(function (d) { if (dims.indexOf(d) < 0) { dims.push(d); } });
      });
      var series = [
        { name: "得分", type: "line", color: "#a5161c", symbolSize: 10, showAllSymbol: true, yAxisIndex: 0,
          data: rows.map(function (r) { return { value: r.score, href: r.href, name: r.name, stars: r.stars }; }) },
        { name: "排名", type: "line", color: "#555", lineStyle: { type: "dashed" }, symbolSize: 8, showAllSymbol: true, yAxisIndex: 1,
          data: rows.map(function (r) { return { value: r.rank, href: r.href, name: r.name }; }) }
      ];
      dims.forEach(function (d, i) {
        series.push({ name: d, type: "line", color: palette[i % palette.length], symbolSize: 6, showAllSymbol: true, yAxisIndex: 0,
          data: rows.map(function (r) { return { value: d in r.dimensions ? r.dimensions[d] : null, href: r.href, name: r.name }; }) });
      });
      option = {
        aria: { enabled: true }, animation: false,
        tooltip: { trigger: "axis" },
        legend: { type: "scroll", top: 0, data: series.map(function (s) { return s.name; }) },
        grid: { left: 44, right: 44, top: 40, bottom: 28, containLabel: true },
        xAxis: { type: "category", data: names },
        yAxis: [
          { type: "value", name: "分", min: 0, max: 100 },
          { type: "value", name: "名次", inverse: true, minInterval: 1, min: 1,
            max: Math.max.apply(null, rows.map(function (r) { return r.rank; }).concat([2])) }
        ],
        series: series
      };
    } else {
      option = {
        aria: { enabled: true }, animation: false, tooltip: {}, grid: { left: 40, right: 16, top: 32, bottom: 28, containLabel: true },
        xAxis: { type: "category", data: rows.map(function (b) { return b.name; }), name: "得分" },
        yAxis: { type: "value", minInterval: 1, name: "单位数" },
        series: [{ type: "bar", color: "#8f1d21", cursor: "pointer",
          data: rows.map(function (b) { return { value: b.value, href: b.href, name: b.name }; }) }]
      };
    }
    chart.setOption(option);
    chart.on("click", follow);
    window.addEventListener("resize", function () { chart.resize(); });
  });
})();
