// Reports page: /supervisor/reports/ draws two charts from the figures the server embedded
// (json_script "report-data"). Chart.js is a classic script loaded just before this module;
// without it the tables still have every figure and a line says the charts are unavailable.

const $ = (id) => document.getElementById(id);
const data = JSON.parse($("report-data")?.textContent || "null");
const Chart = window.Chart;

const COLORS = {
  offered: "#9aa5b1",
  handled: "#2f9e62",
  abandoned: "#d64545",
  serviceLevel: "#1f5fd1",
  goal: "#c27c0e",
};
const QUEUE_COLORS = ["#1f5fd1", "#2f9e62", "#c27c0e", "#8e44ad", "#d64545", "#16808c", "#6b7785"];

if (!data) {
  // Nothing to draw (the page shows an error instead of a report).
} else if (typeof Chart !== "function") {
  $("charts-unavailable").hidden = false;
} else {
  drawCharts(data);
}

function drawCharts({ labels, series }) {
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  const picker = $("chart-queue");
  for (const one of series) {
    const option = document.createElement("option");
    option.value = one.key;
    option.textContent = one.name;
    picker.append(option);
  }
  picker.closest("label").hidden = series.length < 2;

  const traffic = new Chart($("traffic-chart"), {
    data: { labels, datasets: trafficDatasets(series[0], labels.length) },
    options: {
      interaction: { mode: "index", intersect: false },
      scales: {
        y: { beginAtZero: true, title: { display: true, text: "Contacts" }, ticks: { precision: 0 } },
        sl: {
          position: "right",
          min: 0,
          max: 100,
          title: { display: true, text: "Service level %" },
          grid: { drawOnChartArea: false },
        },
      },
      plugins: { tooltip: { callbacks: { label: tooltipLabel } } },
    },
  });
  picker.addEventListener("change", () => {
    const chosen = series.find((one) => one.key === picker.value) || series[0];
    traffic.data.datasets = trafficDatasets(chosen, labels.length);
    traffic.update();
  });

  const queues = series.filter((one) => one.key !== "all");
  new Chart($("occupancy-chart"), {
    type: "line",
    data: {
      labels,
      datasets: queues.map((queue, index) => ({
        label: queue.name,
        data: queue.occupancy,
        borderColor: QUEUE_COLORS[index % QUEUE_COLORS.length],
        backgroundColor: QUEUE_COLORS[index % QUEUE_COLORS.length],
        spanGaps: false,
        pointRadius: 2,
      })),
    },
    options: {
      interaction: { mode: "index", intersect: false },
      scales: { y: { min: 0, max: 100, title: { display: true, text: "Occupancy %" } } },
      plugins: { tooltip: { callbacks: { label: tooltipLabel } } },
    },
  });
}

function trafficDatasets(one, count) {
  const datasets = [
    { type: "bar", label: "Offered", data: one.offered, backgroundColor: COLORS.offered, yAxisID: "y" },
    { type: "bar", label: "Handled", data: one.handled, backgroundColor: COLORS.handled, yAxisID: "y" },
    { type: "bar", label: "Abandoned", data: one.abandoned, backgroundColor: COLORS.abandoned, yAxisID: "y" },
    {
      type: "line",
      label: "Service level %",
      data: one.service_level,
      borderColor: COLORS.serviceLevel,
      backgroundColor: COLORS.serviceLevel,
      yAxisID: "sl",
      spanGaps: true,
      pointRadius: 3,
    },
  ];
  if (one.goal !== null && one.goal !== undefined) {
    datasets.push({
      type: "line",
      label: `Goal ${one.goal} %`,
      data: Array(count).fill(one.goal),
      borderColor: COLORS.goal,
      borderDash: [6, 4],
      pointRadius: 0,
      yAxisID: "sl",
    });
  }
  return datasets;
}

function tooltipLabel(context) {
  const value = context.parsed.y;
  if (value === null || value === undefined) return `${context.dataset.label}: —`;
  return context.dataset.yAxisID === "sl" || context.chart.canvas.id === "occupancy-chart"
    ? `${context.dataset.label.replace(/ %$/, "")}: ${value} %`
    : `${context.dataset.label}: ${value}`;
}
