// The container page's Stats tab: four live charts of the last two minutes (CPU, memory, network,
// block I/O), fed by the dashboard's stream of one point per engine sample, about one a second.
// Drawn by hand on <canvas>: a few lines a second need no charting library.
import { bytes } from "./common.js";
import { base, registerTab } from "./container-tabs.js";

const WINDOW_SECONDS = 120;
const COLORS = ["--accent", "--warn"];  // of a chart's first and second series (CSS variables)
const percent = (v) => `${v.toFixed(1)} %`;
const perSecond = (v) => `${bytes(v)}/s`;
// floor: the least top of a scale, so that noise near zero does not fill the chart.
const charts = [
  { name: "cpu", title: "CPU", format: percent, floor: 1, series: [["cpu", "used"]] },
  { name: "memory", title: "Memory", format: bytes, floor: 1e6, series: [["mem", "used"]] },
  { name: "network", title: "Network", format: perSecond, floor: 1e3, series: [["net_rx", "in"], ["net_tx", "out"]] },
  { name: "block", title: "Block I/O", format: perSecond, floor: 1e3, series: [["blk_read", "read"], ["blk_write", "written"]] },
];

const status = document.getElementById("stats-status");
const box = document.getElementById("charts");
for (const chart of charts) {
  const figure = document.createElement("figure");
  figure.className = "chart";
  figure.innerHTML = `<figcaption><b>${chart.title}</b><span class="now" id="stats-${chart.name}"></span></figcaption><canvas></canvas>`;
  chart.now = figure.querySelector(".now");
  chart.canvas = figure.querySelector("canvas");
  box.append(figure);
}

let source = null;
let points = [];

// The top of a chart's scale: its peak rounded up to 1, 2 or 5 times a power of ten (readable labels).
function ceiling(value) {
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].find((m) => m * power >= value) * power;
}

// One chart: its series as lines over the window ending at `now`, with the top of the scale and its
// half marked. A missing value (null) breaks a line rather than drawing it at zero.
function draw(chart, now) {
  const canvas = chart.canvas;
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth, height = canvas.clientHeight;
  if (!width) return;  // the tab is hidden
  if (canvas.width !== Math.round(width * ratio)) canvas.width = Math.round(width * ratio);
  if (canvas.height !== Math.round(height * ratio)) canvas.height = Math.round(height * ratio);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  const values = points.flatMap((p) => chart.series.map(([key]) => p[key] ?? 0));
  const scale = ceiling(Math.max(chart.floor, ...values));
  const top = 14;  // room for the top label
  const y = (v) => height - 1 - (v / scale) * (height - top - 1);
  const x = (t) => width - ((now - t) / WINDOW_SECONDS) * width;

  const style = getComputedStyle(document.documentElement);
  ctx.font = "11px system-ui, sans-serif";
  ctx.lineWidth = 1;
  for (const share of [0.5, 1]) {
    ctx.strokeStyle = style.getPropertyValue("--line");
    ctx.beginPath();
    ctx.moveTo(0, Math.round(y(scale * share)) + 0.5);
    ctx.lineTo(width, Math.round(y(scale * share)) + 0.5);
    ctx.stroke();
    ctx.fillStyle = style.getPropertyValue("--muted");
    ctx.fillText(chart.format(scale * share), 2, y(scale * share) - 3);
  }
  ctx.lineWidth = 1.5;
  chart.series.forEach(([key], i) => {
    ctx.strokeStyle = style.getPropertyValue(COLORS[i]);
    ctx.beginPath();
    let drawing = false;
    for (const p of points) {
      if (p[key] === null) { drawing = false; continue; }
      if (drawing) ctx.lineTo(x(p.t), y(p[key])); else ctx.moveTo(x(p.t), y(p[key]));
      drawing = true;
    }
    ctx.stroke();
  });
}

function describe(chart, point) {
  const parts = chart.series.map(([key, label], i) =>
    `<span class="swatch s${i}"></span>${label} ${point[key] === null ? "…" : chart.format(point[key])}`);
  if (chart.name === "memory" && point.mem_limit) {
    parts.push(`of ${bytes(point.mem_limit)} (${percent(point.mem / point.mem_limit * 100)})`);
  }
  chart.now.innerHTML = parts.join(" ");
}

function redraw() {
  const latest = points.at(-1);
  if (!latest) return;
  for (const chart of charts) {
    describe(chart, latest);
    draw(chart, latest.t);
  }
}

function stop() {
  if (source) { source.close(); source = null; }
}

// Each showing starts afresh: a gap while the tab was hidden is not data.
function start() {
  stop();
  points = [];
  status.textContent = "waiting for the first sample…";
  source = new EventSource(`${base}/stats`);
  source.addEventListener("point", (e) => {
    const point = JSON.parse(e.data);
    points.push(point);
    while (points[0].t < point.t - WINDOW_SECONDS) points.shift();
    status.textContent = `live · last ${WINDOW_SECONDS / 60} minutes · sampled ${new Date(point.t * 1000).toLocaleTimeString()}`;
    redraw();
  });
  source.addEventListener("stopped", () => { status.textContent = "not running: the charts resume when it starts"; });
  source.addEventListener("end", () => { stop(); status.textContent = "the engine ended the stream"; });
  source.addEventListener("failure", (e) => { stop(); status.textContent = JSON.parse(e.data).message; });
  source.onerror = () => { status.textContent = "disconnected: reconnecting…"; };  // EventSource retries
}

registerTab("stats", { start, stop });
window.addEventListener("resize", redraw);
