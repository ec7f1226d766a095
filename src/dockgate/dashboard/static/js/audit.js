// The audit trail, newest first: filters kept in the address bar, "load more" for older records, the
// export link following the filters, and a record's redacted body on click.
import { api, bytes, esc, formQuery, restoreForm, typing } from "./common.js";

const form = document.getElementById("query");
const body = document.querySelector("#records tbody");
const more = document.getElementById("more");
let records = [];          // shown, newest first
let ids = new Set();
const expanded = new Set();


// Local time as the CLI prints it (2024-05-01 13:45:00): short, and sorts as it reads.
function when(iso) {
  const t = new Date(iso);
  const two = (n) => String(n).padStart(2, "0");
  return `${t.getFullYear()}-${two(t.getMonth() + 1)}-${two(t.getDate())} ${two(t.getHours())}:${two(t.getMinutes())}:${two(t.getSeconds())}`;
}

const duration = (ms) => (ms === null ? "" : ms >= 10 ? `${Math.round(ms)} ms` : `${ms.toFixed(1)} ms`);

function row(r) {
  return `<tr class="record${expanded.has(r.id) ? " open" : ""}" data-id="${r.id}" title="click for details">`
    + `<td class="mono" title="${esc(r.time)}">${esc(when(r.time))}</td>`
    + `<td>${esc(r.user ?? "—")}</td><td class="small">${esc(r.source)}</td><td>${esc(r.host ?? "")}</td>`
    + `<td class="mono request">${esc(r.method)} ${esc(r.path)}</td><td>${esc(r.operation)}</td>`
    + `<td><span class="decision ${esc(r.decision)}">${esc(r.decision)}</span>${r.rule ? ` <span class="muted small">${esc(r.rule)}</span>` : ""}</td>`
    + `<td>${esc(r.status ?? "")}</td><td class="size">${esc(duration(r.duration_ms))}</td>`
    + `<td class="size">${esc(bytes(r.bytes_in))} / ${esc(bytes(r.bytes_out))}</td></tr>`
    + (expanded.has(r.id) ? detail(r) : "");
}

function detail(r) {
  const facts = [["Record", r.id], ["Session", r.kind], ["Started", r.started], ["Ended", r.ended]]
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join("");
  const text = r.body === null ? `<p class="muted">No request body recorded.</p>`
    : `<pre class="json">${esc(JSON.stringify(r.body, null, 2))}</pre>`;
  return `<tr class="detail"><td colspan="10"><dl class="facts">${facts}</dl>${text}</td></tr>`;
}

function render() {
  body.innerHTML = records.map(row).join("");
  document.getElementById("empty").hidden = records.length > 0;
  document.getElementById("count").textContent = `${records.length} record${records.length === 1 ? "" : "s"} shown`;
}

let loading = null;
// Older records ask for those up to the oldest shown, inclusive: ones it shares a time with are dropped here.
async function load({ older = false } = {}) {
  const query = formQuery(form);
  if (!older) history.replaceState(null, "", `${location.pathname}?${query}`);
  const filters = new URLSearchParams(query);
  filters.delete("limit");
  document.getElementById("export").href = `/ui/api/audit/export?${filters}`;
  if (older && records.length) query.set("through", records.at(-1).time);
  const mine = loading = api(`/ui/api/audit?${query}`);
  const errorBox = document.getElementById("query-error");
  more.disabled = true;
  try {
    const data = await mine;
    if (mine !== loading) return;
    errorBox.hidden = true;
    if (!older) { records = []; ids = new Set(); }
    for (const r of data.records) if (!ids.has(r.id)) { ids.add(r.id); records.push(r); }
    more.hidden = !data.more;
    render();
  } catch (error) {
    if (mine !== loading) return;
    errorBox.textContent = error.message;
    errorBox.hidden = false;
  } finally {
    more.disabled = false;
  }
}

let inputTimer = null;
form.addEventListener("input", () => { clearTimeout(inputTimer); inputTimer = setTimeout(load, 400); });
form.addEventListener("submit", (event) => { event.preventDefault(); load(); });
more.addEventListener("click", () => load({ older: true }));
body.addEventListener("click", (event) => {
  const tr = event.target.closest("tr.record");
  if (!tr || getSelection().toString()) return;   // selecting text is not a click
  const id = Number(tr.dataset.id);
  if (expanded.has(id)) expanded.delete(id); else expanded.add(id);
  render();
});
document.addEventListener("keydown", (event) => { if (!typing(event) && event.key === "r") load(); });

restoreForm(form);
load();
