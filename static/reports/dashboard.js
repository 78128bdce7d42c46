// The dashboard's charts, map and sortable table. Data comes from the page's
// <script type="application/json" id="dashboard-data"> block (no inline script: strict CSP).
// Tooltips use ECharts' rich-text mode: its HTML tooltips carry inline styles the CSP refuses.
(function () {
  "use strict";
  const source = document.getElementById("dashboard-data");
  if (!source || typeof echarts === "undefined") return;
  const data = JSON.parse(source.textContent);
  const charts = [];

  function trendOption(name) {
    const o = data.outcomes[name];
    return {
      animation: false,
      grid: { left: 36, right: 8, top: 10, bottom: 24 },
      tooltip: { trigger: "axis", renderMode: "richText" },
      xAxis: { type: "category", data: data.months, axisLabel: { formatter: (v) => v.slice(2) } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "line", name: data.labels[name], data: o.trend, connectNulls: false, symbolSize: 5 }],
    };
  }

  document.querySelectorAll("[data-trend]").forEach(function (el) {
    const chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(trendOption(el.getAttribute("data-trend")));
    charts.push(chart);
  });

  const mapEl = document.getElementById("map");
  const picker = document.getElementById("map-figure");
  if (mapEl && data.map && data.map.features.length) {
    const mapName = "grid-" + data.node.id;
    echarts.registerMap(mapName, data.map);
    const chart = echarts.init(mapEl, null, { renderer: "canvas" });
    const draw = function () {
      const key = picker ? picker.value : "incidents";
      const values = data.children.map((c) => ({ name: c.name, value: c[key], url: c.url }));
      const numbers = values.map((v) => v.value).filter((v) => typeof v === "number");
      chart.setOption(
        {
          animation: false,
          tooltip: { trigger: "item", renderMode: "richText" },
          visualMap: {
            type: "continuous",
            min: numbers.length ? Math.min.apply(null, numbers) : 0,
            max: numbers.length ? Math.max(1, Math.max.apply(null, numbers)) : 1,
            text: [data.labels[key], ""],
            calculable: true,
            left: "left",
            bottom: 0,
          },
          series: [
            {
              type: "map",
              map: mapName,
              roam: true,
              name: data.labels[key],
              label: { show: data.children.length <= 40, fontSize: 10 },
              data: values,
            },
          ],
        },
        true
      );
    };
    draw();
    if (picker) picker.addEventListener("change", draw);
    chart.on("click", function (params) {
      if (params.data && params.data.url) window.location.href = params.data.url;
    });
    charts.push(chart);
  }

  window.addEventListener("resize", function () {
    charts.forEach((c) => c.resize());
  });

  // Sortable table: a header button sorts by its column; a second click reverses.
  const table = document.getElementById("children");
  if (table) {
    let current = null;
    let ascending = true;
    table.querySelectorAll("button[data-sort]").forEach(function (button, index) {
      button.addEventListener("click", function () {
        const key = button.getAttribute("data-sort");
        ascending = current === key ? !ascending : key === "name";
        current = key;
        const body = table.tBodies[0];
        const rows = Array.from(body.rows);
        const value = (row) => row.cells[index].getAttribute("data-value") || "";
        rows.sort(function (a, b) {
          const x = value(a);
          const y = value(b);
          let order;
          if (key === "name") order = x.localeCompare(y, "zh");
          else {
            const nx = x === "" ? -Infinity : parseFloat(x);
            const ny = y === "" ? -Infinity : parseFloat(y);
            order = nx - ny;
          }
          return ascending ? order : -order;
        });
        rows.forEach((row) => body.appendChild(row));
        table.querySelectorAll("th").forEach((th) => th.removeAttribute("aria-sort"));
        button.parentElement.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      });
    });
  }
  document.documentElement.setAttribute("data-charts", String(charts.length));
})();
