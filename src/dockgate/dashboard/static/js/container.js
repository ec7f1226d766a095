// One container: tabs (kept in the address's #), lifecycle buttons, processes, and live logs.
// The page's other tabs (stats, console) live in their own modules, loaded before this one.
import { api, esc, toast } from "./common.js";
import { base, registerTab, showTab } from "./container-tabs.js";

window.addEventListener("hashchange", () => showTab(location.hash.slice(1)));

// -- lifecycle -------------------------------------------------------------------------------------
// Only the buttons that make sense in the container's state (and that its user may press: the
// page renders no others).
const sensible = {
  running: ["stop", "restart", "pause", "kill", "remove"], paused: ["unpause", "stop", "kill", "remove"],
  restarting: ["stop", "kill", "remove"], removing: [],
};
function showState(status) {
  const state = document.getElementById("state");
  state.textContent = status;
  state.className = `state-tag ${status}`;
  const allowed = sensible[status] ?? ["start", "restart", "remove"];
  document.querySelectorAll("#actions button").forEach((b) => { b.hidden = !allowed.includes(b.dataset.action); });
}
showState(document.getElementById("state").textContent.trim());

document.getElementById("actions").addEventListener("click", async (event) => {
  const action = event.target.dataset.action;
  if (!action) return;
  if ((action === "remove" || action === "kill") && !confirm(`${action} this container?`)) return;
  event.target.disabled = true;
  try {
    await api(`${base}/${action}`, { method: "POST" });
    toast(`${action}: done`, "ok");
    if (action === "remove") { location.assign("/ui/containers"); return; }
    const info = await api(`${base}/json`);
    showState(info.State.Status);
  } catch (error) {
    toast(`${action}: ${error.message}`, "error", 10);
  } finally {
    event.target.disabled = false;
  }
});

// -- processes -------------------------------------------------------------------------------------
let topTimer = null;
async function refreshTop() {
  const status = document.getElementById("top-status");
  const args = document.querySelector("#top-controls input[name=ps_args]").value.trim();
  try {
    const top = await api(`${base}/top${args ? `?ps_args=${encodeURIComponent(args)}` : ""}`);
    document.querySelector("#top thead").innerHTML = `<tr>${top.Titles.map((t) => `<th>${esc(t)}</th>`).join("")}</tr>`;
    document.querySelector("#top tbody").innerHTML = (top.Processes ?? []).map((p) => `<tr>${p.map((v) => `<td>${esc(v)}</td>`).join("")}</tr>`).join("");
    status.textContent = `${(top.Processes ?? []).length} processes · refreshed ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    status.textContent = error.message;
  }
}
registerTab("top", {
  start: () => { if (!topTimer) { refreshTop(); topTimer = setInterval(refreshTop, 2000); } },
  stop: () => { clearInterval(topTimer); topTimer = null; },
});
document.getElementById("top-controls").addEventListener("submit", (e) => { e.preventDefault(); refreshTop(); });

// -- logs ------------------------------------------------------------------------------------------
// A bounded window: at most MAX_LINES lines are kept and drawn, so a container printing thousands of
// lines a second neither freezes the page nor grows its memory without end.
const MAX_LINES = 5000;
const logBox = document.getElementById("log");
const logForm = document.getElementById("log-controls");
const logStatus = document.getElementById("log-status");
const logSearch = document.getElementById("log-search");
const logs = { source: null, lines: [], paused: false, received: 0, drawn: 0, started: 0 };
window.dockgateLogs = logs;  // read by the benchmark and the end-to-end tests

function logQuery(extra = {}) {
  const f = logForm.elements;
  const query = new URLSearchParams({ follow: f.follow.checked ? "1" : "0", tail: f.tail.value.trim() || "all",
    timestamps: f.timestamps.checked ? "1" : "0", stdout: f.stdout.checked ? "1" : "0", stderr: f.stderr.checked ? "1" : "0", ...extra });
  return query;
}

function lineElement([stream, text], pattern) {
  const div = document.createElement("div");
  div.className = stream === 2 ? "err" : "out";
  if (pattern) {
    let last = 0;
    for (const match of text.matchAll(pattern)) {
      if (!match[0]) break;
      div.append(text.slice(last, match.index));
      const mark = document.createElement("mark");
      mark.textContent = match[0];
      div.append(mark);
      last = match.index + match[0].length;
    }
    div.append(text.slice(last));
  } else {
    div.textContent = text;
  }
  return div;
}

function searchPattern() {
  const term = logSearch.value;
  return term ? new RegExp(term.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "gi") : null;
}

function redraw() {
  const pattern = searchPattern();
  const fragment = document.createDocumentFragment();
  for (const line of logs.lines) fragment.append(lineElement(line, pattern));
  logBox.replaceChildren(fragment);
  logBox.scrollTop = logBox.scrollHeight;
}

function append(batch) {
  logs.received += batch.length;
  logs.lines.push(...batch);
  if (logs.lines.length > MAX_LINES) logs.lines.splice(0, logs.lines.length - MAX_LINES);
  if (logs.paused) return;
  const atBottom = logBox.scrollHeight - logBox.scrollTop - logBox.clientHeight < 40;
  const pattern = searchPattern();
  const fresh = batch.length > MAX_LINES ? batch.slice(-MAX_LINES) : batch;
  const fragment = document.createDocumentFragment();
  for (const line of fresh) fragment.append(lineElement(line, pattern));
  logBox.append(fragment);
  let extra = logBox.childElementCount - MAX_LINES;
  while (extra-- > 0) logBox.firstElementChild.remove();
  logs.drawn += fresh.length;
  if (atBottom) logBox.scrollTop = logBox.scrollHeight;
}

function status() {
  const seconds = (performance.now() - logs.started) / 1000;
  const state = logs.source ? (logs.paused ? "paused" : "following") : "stopped";
  logStatus.textContent = `${state} · ${logs.received} lines received (${Math.round(logs.received / Math.max(seconds, 1))}/s) · last ${Math.min(logs.lines.length, MAX_LINES)} kept`;
}
let statusTimer = null;

function stopLogs() {
  if (logs.source) { logs.source.close(); logs.source = null; }
  clearInterval(statusTimer);
  statusTimer = null;
  if (logStatus.textContent) status();
}

function startLogs() {
  stopLogs();
  logs.lines = []; logs.received = 0; logs.drawn = 0; logs.started = performance.now();
  logBox.replaceChildren();
  const source = logs.source = new EventSource(`${base}/logs?${logQuery()}`);
  source.addEventListener("lines", (e) => append(JSON.parse(e.data)));
  source.addEventListener("end", () => { stopLogs(); logStatus.textContent += " · end of log"; });
  source.addEventListener("failure", (e) => { stopLogs(); logStatus.textContent = JSON.parse(e.data).message; });
  source.onerror = () => { if (logs.source === source) { stopLogs(); logStatus.textContent += " · disconnected"; } };
  statusTimer = setInterval(status, 1000);
  status();
}
registerTab("logs", { start: () => { if (!logs.source && !logs.started) startLogs(); } });
logForm.addEventListener("change", (e) => { if (e.target !== logSearch) startLogs(); });
logForm.addEventListener("submit", (e) => { e.preventDefault(); startLogs(); });
logSearch.addEventListener("input", redraw);
document.getElementById("log-pause").addEventListener("click", (e) => {
  logs.paused = !logs.paused;
  e.target.textContent = logs.paused ? "Resume" : "Pause";
  if (!logs.paused) redraw();
  status();
});
document.getElementById("log-clear").addEventListener("click", () => { logs.lines = []; logBox.replaceChildren(); });
document.getElementById("log-download").addEventListener("click", (e) => {
  e.target.href = `${base}/logs?${logQuery({ download: "1", follow: "0" })}`;
});

showTab(location.hash.slice(1) || "overview");
