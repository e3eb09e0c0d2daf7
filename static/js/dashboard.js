// The dashboard's charts, drawn by Chart.js from the figures the page embeds as JSON
// (`json_script`: no inline script, the Content-Security-Policy allows only this site's files).
// Each chart has its table on the page; a bar of the aging opens that bucket's invoices.
(function () {
  "use strict";
  var source = document.getElementById("dashboard-charts");
  if (!source || typeof Chart === "undefined") return;
  var data = JSON.parse(source.textContent);
  var numbers = function (values) {
    return values.map(function (value) { return value === null ? null : Number(value); });
  };
  var money = function (value) {
    return new Intl.NumberFormat(undefined, { style: "currency", currency: data.currency }).format(value);
  };
  var moneyAxis = { ticks: { callback: function (value) { return money(value); } }, beginAtZero: true };
  var moneyTooltip = { callbacks: { label: function (item) { return item.dataset.label + ": " + money(item.parsed.y); } } };
  var build = {
    aging: function (figures) {
      return {
        type: "bar",
        data: { labels: figures.labels, datasets: [{ label: "Owed", data: numbers(figures.amounts), backgroundColor: ["#2fb344", "#f59f00", "#f76707", "#d63939", "#862e9c"] }] },
        options: {
          plugins: { legend: { display: false }, tooltip: moneyTooltip },
          scales: { y: moneyAxis },
          onClick: function (event, elements) {
            if (!elements.length) return;
            var link = document.querySelector('a[data-bucket="' + figures.keys[elements[0].index] + '"]');
            if (link) window.location.assign(link.href);
          },
          onHover: function (event, elements) { event.native.target.style.cursor = elements.length ? "pointer" : "default"; }
        }
      };
    },
    dso: function (figures) {
      return {
        type: "line",
        data: { labels: figures.labels, datasets: [{ label: "DSO (days)", data: numbers(figures.days), borderColor: "#206bc4", spanGaps: true, tension: 0.2 }] },
        options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } }
      };
    },
    mrr: function (figures) {
      return {
        type: "line",
        data: { labels: figures.labels, datasets: [{ label: "MRR", data: numbers(figures.amounts), borderColor: "#2fb344", fill: false, tension: 0.2 }] },
        options: { plugins: { legend: { display: false }, tooltip: moneyTooltip }, scales: { y: moneyAxis } }
      };
    },
    revenue: function (figures) {
      return {
        type: "bar",
        data: {
          labels: figures.labels,
          datasets: [
            { label: "Invoiced", data: numbers(figures.invoiced), backgroundColor: "#206bc4" },
            { label: "Collected", data: numbers(figures.collected), backgroundColor: "#2fb344" }
          ]
        },
        options: { plugins: { tooltip: moneyTooltip }, scales: { y: moneyAxis } }
      };
    }
  };
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var name = canvas.dataset.chart;
    if (!data[name] || !build[name]) return;
    var config = build[name](data[name]);
    config.options.maintainAspectRatio = false;
    canvas.chart = new Chart(canvas, config);
    canvas.dataset.rendered = "true";
  });
})();
