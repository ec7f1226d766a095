// The containers of every host: the list parameters as controls (kept in the address bar, so a view
// can be shared), client-side search and sort, bulk actions, and live updates from engine events.
import { ago, api, bytes, esc, formQuery, restoreForm, toast, typing, watchControls } from "./common.js";

const form = document.getElementById("query");
const body = document.querySelector("#containers tbody");
const search = document.getElementById("search");
const bulk = document.getElementById("bulk");
let rows = [];             // the last listing, as the engines gave it
let shown = [];            // rows after search and sort, in display order
let selected = new Set();  // "host/id"
let cursor = -1;
let sort = { key: "created", dir: -1 };
let allowed = new Set();   // operations some host lets this user call

const key = (c) => `${c.Host}/${c.Id}`;
const name = (c) => (c.Names?.[0] ?? c.Id.slice(0, 12)).replace(/^\//, "");
const ports = (c) => (c.Ports ?? []).map((p) => p.PublicPort ? `${p.IP ?? ""}:${p.PublicPort}->${p.PrivatePort}/${p.Type}` : `${p.PrivatePort}/${p.Type}`)
  .filter((v, i, all) => all.indexOf(v) === i).join(", ");
const sorters = {
  name: (c) => name(c).toLowerCase(), host: (c) => c.Host, image: (c) => c.Image, state: (c) => c.State,
  status: (c) => c.Status, created: (c) => c.Created, size: (c) => c.SizeRw ?? -1,
};

let loading = null;
async function load() {
  const query = formQuery(form);
  history.replaceState(null, "", `${location.pathname}?${query}`);
  const mine = loading = api(`/ui/api/containers?${query}`);
  const errorBox = document.getElementById("query-error");
  const table = document.getElementById("containers");
  table.setAttribute("aria-busy", "true");
  try {
    const data = await mine;
    if (mine !== loading) return;   // a newer query answered first
    errorBox.hidden = true;
    rows = data.containers;
    document.getElementById("host-errors").innerHTML = data.hosts.filter((h) => h.error)
      .map((h) => `<p class="error host-error">${esc(h.host)}: ${esc(h.error)}</p>`).join("");
    render();
  } catch (error) {
    if (mine !== loading) return;
    errorBox.textContent = error.message;
    errorBox.hidden = false;
  } finally {
    if (mine === loading) table.setAttribute("aria-busy", "false");
  }
}

function render() {
  const words = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
  shown = rows.filter((c) => {
    if (!words.length) return true;
    const text = `${name(c)} ${c.Id} ${c.Host} ${c.Image} ${c.Status} ${Object.entries(c.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(" ")}`.toLowerCase();
    return words.every((w) => text.includes(w));
  });
  const get = sorters[sort.key];
  shown.sort((a, b) => (get(a) < get(b) ? -1 : get(a) > get(b) ? 1 : 0) * sort.dir);
  const sizes = form.elements.size.checked;
  body.innerHTML = shown.map((c, i) => {
    const k = key(c);
    const href = `/ui/hosts/${encodeURIComponent(c.Host)}/containers/${encodeURIComponent(c.Id)}`;
    return `<tr data-key="${esc(k)}" class="${i === cursor ? "cursor" : ""}${selected.has(k) ? " selected" : ""}">`
      + `<td class="check"><input type="checkbox" ${selected.has(k) ? "checked" : ""}></td>`
      + `<td><a href="${href}">${esc(name(c))}</a><div class="muted small mono">${esc(c.Id.slice(0, 12))}</div></td>`
      + `<td>${esc(c.Host)}</td><td class="mono">${esc(c.Image)}</td>`
      + `<td><span class="state-tag ${esc(c.State)}">${esc(c.State)}</span></td><td>${esc(c.Status)}</td>`
      + `<td title="${esc(new Date(c.Created * 1000).toLocaleString())}">${esc(ago(c.Created))}</td>`
      + `<td class="mono small">${esc(ports(c))}</td>`
      + `<td class="size">${sizes && c.SizeRw !== null && c.SizeRw !== undefined ? `${bytes(c.SizeRw)} <span class="muted">(${bytes(c.SizeRootFs)})</span>` : ""}</td></tr>`;
  }).join("");
  performance.mark("containers-rendered", { detail: shown.length });  // read by bench/dashboard.py
  document.getElementById("empty").hidden = shown.length > 0;
  document.getElementById("count").textContent = `${shown.length} of ${rows.length} shown`;
  document.querySelectorAll("th[data-sort]").forEach((th) => {
    th.classList.toggle("sorted", th.dataset.sort === sort.key);
    th.dataset.dir = sort.dir > 0 ? "asc" : "desc";
  });
  updateBulk();
}

function updateBulk() {
  const live = new Set(rows.map(key));
  selected = new Set([...selected].filter((k) => live.has(k)));
  bulk.hidden = selected.size === 0;
  document.getElementById("selected-count").textContent = `${selected.size} selected`;
  const ops = { start: "ContainerStart", stop: "ContainerStop", restart: "ContainerRestart", pause: "ContainerPause",
                unpause: "ContainerUnpause", kill: "ContainerKill", remove: "ContainerDelete" };
  bulk.querySelectorAll("button").forEach((b) => { b.hidden = !allowed.has(ops[b.dataset.action]); });
  document.getElementById("select-all").checked = shown.length > 0 && shown.every((c) => selected.has(key(c)));
}

async function runBulk(action) {
  const targets = rows.filter((c) => selected.has(key(c))).map((c) => ({ host: c.Host, id: c.Id, name: name(c) }));
  if (!targets.length) return;
  if ((action === "remove" || action === "kill") &&
      !confirm(`${action} ${targets.length} container${targets.length > 1 ? "s" : ""}?\n${targets.map((t) => t.name).join(", ")}`)) return;
  bulk.querySelectorAll("button").forEach((b) => { b.disabled = true; });
  try {
    const { results } = await api("/ui/api/containers/action", { method: "POST", body: { action, targets } });
    const failed = results.filter((r) => !r.ok);
    const ok = results.length - failed.length;
    if (ok) toast(`${action}: ${ok} done`, "ok");
    for (const f of failed) toast(`${action} ${targets.find((t) => t.id === f.id)?.name ?? f.id} on ${f.host}: ${f.error}`, "error", 10);
    if (action === "remove") results.filter((r) => r.ok).forEach((r) => selected.delete(`${r.host}/${r.id}`));
  } catch (error) {
    toast(`${action}: ${error.message}`, "error", 10);
  } finally {
    bulk.querySelectorAll("button").forEach((b) => { b.disabled = false; });
    load();
  }
}

let reloadTimer = null;
function soon() {
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(load, 250);
}

function follow() {
  const live = document.getElementById("live");
  const source = new EventSource("/ui/api/events?type=container");
  source.addEventListener("event", soon);
  source.addEventListener("host-up", () => { live.classList.add("on"); });
  source.addEventListener("host-down", (e) => { const d = JSON.parse(e.data); live.title = `${d.host}: ${d.message}`; });
  source.onerror = () => { live.classList.remove("on"); };
  source.onopen = () => { live.classList.add("on"); soon(); };
}

function move(delta) {
  if (!shown.length) return;
  cursor = Math.max(0, Math.min(shown.length - 1, cursor + delta));
  body.querySelectorAll("tr").forEach((tr, i) => tr.classList.toggle("cursor", i === cursor));
  body.children[cursor]?.scrollIntoView({ block: "nearest" });
}

function toggle(k, on) {
  if (on ?? !selected.has(k)) selected.add(k); else selected.delete(k);
  body.querySelector(`tr[data-key="${CSS.escape(k)}"]`)?.classList.toggle("selected", selected.has(k));
  const box = body.querySelector(`tr[data-key="${CSS.escape(k)}"] input`);
  if (box) box.checked = selected.has(k);
  updateBulk();
}

watchControls(form, search, { redraw: render, reload: load });
body.addEventListener("change", (event) => {
  const tr = event.target.closest("tr");
  if (tr && event.target.type === "checkbox") toggle(tr.dataset.key, event.target.checked);
});
document.getElementById("select-all").addEventListener("change", (event) => {
  shown.forEach((c) => (event.target.checked ? selected.add(key(c)) : selected.delete(key(c))));
  render();
});
document.querySelectorAll("th[data-sort]").forEach((th) => th.addEventListener("click", () => {
  sort = { key: th.dataset.sort, dir: sort.key === th.dataset.sort ? -sort.dir : 1 };
  render();
}));
bulk.addEventListener("click", (event) => { if (event.target.dataset.action) runBulk(event.target.dataset.action); });
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && event.target === search) { search.value = ""; render(); search.blur(); return; }
  if (typing(event)) return;
  const current = shown[cursor];
  if (event.key === "/") { event.preventDefault(); search.focus(); }
  else if (event.key === "j" || event.key === "ArrowDown") { event.preventDefault(); move(1); }
  else if (event.key === "k" || event.key === "ArrowUp") { event.preventDefault(); move(-1); }
  else if (event.key === "x" && current) toggle(key(current));
  else if (event.key === "Enter" && current) body.children[cursor].querySelector("a").click();
  else if (event.key === "a") { form.elements.all.checked = !form.elements.all.checked; load(); }
  else if (event.key === "r") load();
});

restoreForm(form);
api("/ui/api/hosts").then((hosts) => {
  allowed = new Set(hosts.flatMap((h) => h.may));
  document.getElementById("create-link").hidden = !allowed.has("ContainerCreate");
  updateBulk();
});
load().then(follow);
