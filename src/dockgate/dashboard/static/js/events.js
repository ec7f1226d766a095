// The engines' events, newest first, with filters; a bounded table so a busy engine cannot grow the page.
import { esc } from "./common.js";

const MAX_ROWS = 2000;
const form = document.getElementById("event-filters");
const body = document.querySelector("#events tbody");
const errors = document.getElementById("host-errors");
let source = null;
let paused = false;
let count = 0;
const down = new Map();

function query() {
  const q = new URLSearchParams();
  for (const [k, v] of new FormData(form)) {
    const value = String(v).trim();
    if (!value) continue;
    if (k === "since") {
      const unit = { m: 60, h: 3600 }[value.slice(-1)];
      q.set("since", String(Math.floor(Date.now() / 1000 - Number(value.slice(0, -1)) * unit)));
    } else q.append(k, value);
  }
  return q;
}

function row(e) {
  const actor = e.Actor ?? {};
  const attrs = Object.entries(actor.Attributes ?? {}).filter(([k]) => k !== "name").map(([k, v]) => `${k}=${v}`).join(", ");
  const when = new Date((e.timeNano ? e.timeNano / 1e6 : e.time * 1000)).toLocaleTimeString();
  return `<tr><td class="mono">${esc(when)}</td><td>${esc(e.Host)}</td><td>${esc(e.Type)}</td><td>${esc(e.Action)}</td>`
    + `<td class="mono">${esc(actor.Attributes?.name ?? (actor.ID ?? "").slice(0, 12))}</td><td class="small muted">${esc(attrs)}</td></tr>`;
}

function showErrors() {
  errors.innerHTML = [...down].map(([h, m]) => `<p class="error host-error">${esc(h)}: ${esc(m)}</p>`).join("");
}

function start() {
  if (source) source.close();
  body.replaceChildren();
  count = 0;
  source = new EventSource(`/ui/api/events?${query()}`);
  source.addEventListener("event", (m) => {
    count++;
    document.getElementById("event-count").textContent = `${count} events`;
    if (paused) return;
    body.insertAdjacentHTML("afterbegin", row(JSON.parse(m.data)));
    while (body.childElementCount > MAX_ROWS) body.lastElementChild.remove();
  });
  source.addEventListener("host-down", (m) => { const d = JSON.parse(m.data); down.set(d.host, d.message); showErrors(); });
  source.addEventListener("host-up", (m) => { down.delete(JSON.parse(m.data).host); showErrors(); });
}

let timer = null;
form.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(start, 400); });
form.addEventListener("submit", (e) => { e.preventDefault(); start(); });
document.getElementById("events-pause").addEventListener("click", (e) => {
  paused = !paused;
  e.target.textContent = paused ? "Resume" : "Pause";
});
start();
