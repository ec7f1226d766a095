// What the images, networks and volumes pages share: one list across the hosts (filters kept in the
// address bar), client-side search and sort, removal of the selected rows, prune per host, and an
// inspect panel. Each page gives its columns and words. Buttons appear only on hosts where the user
// holds the operation; whatever is still refused comes back as the gateway's message, shown as a
// toast and on the row it concerns.
import { ago, api, bytes, esc, formQuery, restoreForm, toast, typing, watchControls } from "./common.js";

// Containers using an object: their names (a count when `count`), or "?" when the user may not list them.
export function usedBy(row, { count = false } = {}) {
  if (row.UsedBy === null || row.UsedBy === undefined) return `<span class="muted" title="containers not known">?</span>`;
  if (!row.UsedBy.length) return `<span class="muted">${count ? "0" : "none"}</span>`;
  const names = row.UsedBy.join(", ");
  return count ? `<span title="${esc(names)}">${row.UsedBy.length}</span>` : esc(names);
}

export const created = (row) => row.Created
  ? `<span title="${esc(new Date(row.Created * 1000).toLocaleString())}">${esc(ago(row.Created))}</span>` : "";

// kind: { name, noun, removeOp, pruneOp, columns: [{ title, sort?, cell, className? }], label(row),
//         text(row) (what search looks in), removable(row)?, sort: { key, dir } }
export function resourcePage(kind) {
  const form = document.getElementById("query");
  const table = document.getElementById("rows");
  const body = table.querySelector("tbody");
  const search = document.getElementById("search");
  const bulk = document.getElementById("bulk");
  const force = document.getElementById("force");
  const panel = document.getElementById("inspect");
  let rows = [];
  let shown = [];
  let selected = new Set();
  const failures = new Map();   // row key -> the refusal or error its last removal met
  let may = new Map();          // host -> operations the user may call there
  let sort = { ...kind.sort };
  let open = null;              // the row in the inspect panel

  const key = (r) => `${r.Host}/${r.Ref}`;
  const allowed = (host, op) => may.get(host)?.has(op) ?? false;
  const removable = (r) => allowed(r.Host, kind.removeOp) && (kind.removable?.(r) ?? true);
  const plural = (n) => `${n} ${kind.noun}${n === 1 ? "" : "s"}`;
  const hostPath = (host) => `/ui/api/hosts/${encodeURIComponent(host)}/${kind.name}`;

  table.querySelector("thead").innerHTML = `<tr><th class="check"><input type="checkbox" id="select-all" title="select all shown"></th>`
    + kind.columns.map((c, i) => `<th${c.sort ? ` data-sort="${i}"` : ""}${c.className ? ` class="${c.className}"` : ""}>${esc(c.title)}</th>`).join("") + "</tr>";

  let loading = null;
  async function load() {
    const query = formQuery(form);
    history.replaceState(null, "", `${location.pathname}?${query}`);
    const mine = loading = api(`/ui/api/${kind.name}?${query}`);
    const errorBox = document.getElementById("query-error");
    try {
      const data = await mine;
      if (mine !== loading) return;   // a newer query answered first
      errorBox.hidden = true;
      rows = data.rows;
      document.getElementById("host-errors").innerHTML = data.hosts.filter((h) => h.error)
        .map((h) => `<p class="error host-error">${esc(h.host)}: ${esc(h.error.replace(`${h.host}: `, ""))}</p>`).join("");
      render();
    } catch (error) {
      if (mine !== loading) return;
      errorBox.textContent = error.message;
      errorBox.hidden = false;
    }
  }

  function render() {
    const words = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    shown = rows.filter((r) => !words.length || words.every((w) => `${kind.text(r)} ${r.Host}`.toLowerCase().includes(w)));
    const column = kind.columns[sort.key];
    shown.sort((a, b) => {
      const x = column.sort(a), y = column.sort(b);
      return (x < y ? -1 : x > y ? 1 : 0) * sort.dir;
    });
    const live = new Set(rows.map(key));
    selected = new Set([...selected].filter((k) => live.has(k)));
    body.innerHTML = shown.map((r) => {
      const k = key(r);
      const failure = failures.get(k);
      const check = removable(r) ? `<input type="checkbox" ${selected.has(k) ? "checked" : ""} aria-label="select">` : "";
      return `<tr data-key="${esc(k)}" class="${selected.has(k) ? "selected" : ""}"><td class="check">${check}</td>`
        + kind.columns.map((c, i) => {
          const cell = c.cell(r);
          const first = i === 0 ? `<a href="#" class="inspect-link">${cell}</a>${failure ? `<div class="error small row-error">${esc(failure)}</div>` : ""}` : cell;
          return `<td${c.className ? ` class="${c.className}"` : ""}>${first}</td>`;
        }).join("") + "</tr>";
    }).join("");
    document.getElementById("empty").hidden = shown.length > 0;
    document.getElementById("count").textContent = `${shown.length} of ${plural(rows.length)} shown`;
    table.querySelectorAll("th[data-sort]").forEach((th) => {
      th.classList.toggle("sorted", Number(th.dataset.sort) === sort.key);
      th.dataset.dir = sort.dir > 0 ? "asc" : "desc";
    });
    updateBulk();
  }

  function updateBulk() {
    bulk.hidden = selected.size === 0;
    document.getElementById("selected-count").textContent = `${selected.size} selected`;
    const choosable = shown.filter(removable);
    const all = document.getElementById("select-all");
    all.hidden = choosable.length === 0;
    all.checked = choosable.length > 0 && choosable.every((r) => selected.has(key(r)));
  }

  async function remove(targets) {
    if (!targets.length) return;
    const forced = force?.checked ?? false;
    const names = targets.map((r) => `${kind.label(r)} on ${r.Host}`).join("\n");
    if (!confirm(`Remove ${plural(targets.length)}${forced ? " (forced)" : ""}?\n${names}`)) return;
    for (const r of targets) failures.delete(key(r));
    const results = await Promise.all(targets.map(async (r) => {
      try {
        return { r, done: await api(`${hostPath(r.Host)}/remove`, { method: "POST", body: { ref: r.Ref, force: forced } }) };
      } catch (error) {
        return { r, error };
      }
    }));
    const ok = results.filter((x) => x.done);
    if (ok.length === 1) toast(`Removed ${kind.label(ok[0].r)} on ${ok[0].r.Host}: ${ok[0].done.summary}`, "ok");
    else if (ok.length) toast(`Removed ${plural(ok.length)}`, "ok");
    for (const { r, error } of results.filter((x) => x.error)) {
      failures.set(key(r), error.message);
      toast(`Remove ${kind.label(r)} on ${r.Host}: ${error.message}`, "error", 10);
    }
    ok.forEach(({ r }) => selected.delete(key(r)));
    if (open && ok.some(({ r }) => key(r) === key(open))) closePanel();
    await load();
  }

  // Prune: only on hosts where the user holds the operation; the page says what went, and how much space.
  function setUpPrune() {
    const hosts = [...may].filter(([, ops]) => ops.has(kind.pruneOp)).map(([h]) => h);
    const section = document.getElementById("prune");
    section.hidden = hosts.length === 0;
    const pruneForm = document.getElementById("prune-form");
    pruneForm.elements.host.innerHTML = hosts.map((h) => `<option>${esc(h)}</option>`).join("");
    pruneForm.onsubmit = async (event) => {
      event.preventDefault();
      const host = pruneForm.elements.host.value;
      const everything = pruneForm.elements.all?.value === "1";
      const label = pruneForm.elements.label.value.trim();
      const what = pruneForm.elements.all ? pruneForm.elements.all.selectedOptions[0].textContent : `unused ${kind.noun}s`;
      if (!confirm(`Prune ${what}${label ? ` with label ${label}` : ""} on ${host}?`)) return;
      const result = document.getElementById("prune-result");
      const button = pruneForm.querySelector("button");
      button.disabled = true;
      try {
        const done = await api(`${hostPath(host)}/prune`, { method: "POST", body: { all: everything, label } });
        const reclaimed = done.reclaimed === null ? "" : `, ${bytes(done.reclaimed)} reclaimed`;
        result.innerHTML = `<p class="ok-line">${esc(host)}: ${esc(done.summary)}${esc(reclaimed)}</p>`
          + (done.lines.length ? `<details><summary>what was removed</summary><pre class="small">${esc(done.lines.join("\n"))}</pre></details>` : "");
        toast(`Prune on ${host}: ${done.summary}${reclaimed}`, "ok");
      } catch (error) {
        result.innerHTML = `<p class="error">${esc(host)}: ${esc(error.message)}</p>`;
        toast(`Prune on ${host}: ${error.message}`, "error", 10);
      } finally {
        button.disabled = false;
        load();
      }
    };
  }

  async function inspect(r) {
    open = r;
    panel.hidden = false;
    document.getElementById("inspect-title").textContent = kind.label(r);
    document.getElementById("inspect-host").textContent = `on ${r.Host}`;
    document.getElementById("inspect-remove").hidden = !removable(r);
    const facts = document.getElementById("inspect-facts");
    const raw = document.getElementById("inspect-raw");
    const errorBox = document.getElementById("inspect-error");
    facts.innerHTML = "";
    raw.textContent = "";
    errorBox.hidden = true;
    try {
      const info = await api(`${hostPath(r.Host)}/inspect?ref=${encodeURIComponent(r.Ref)}`);
      if (open !== r) return;
      facts.innerHTML = info.summary.filter(([, v]) => v !== "")
        .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join("");
      raw.textContent = JSON.stringify(info.raw, null, 2);
    } catch (error) {
      if (open !== r) return;
      errorBox.textContent = error.message;
      errorBox.hidden = false;
    }
  }

  function closePanel() {
    open = null;
    panel.hidden = true;
  }

  watchControls(form, search, { redraw: render, reload: load });
  body.addEventListener("change", (event) => {
    const tr = event.target.closest("tr");
    if (!tr || event.target.type !== "checkbox") return;
    if (event.target.checked) selected.add(tr.dataset.key); else selected.delete(tr.dataset.key);
    tr.classList.toggle("selected", event.target.checked);
    updateBulk();
  });
  body.addEventListener("click", (event) => {
    const link = event.target.closest(".inspect-link");
    if (!link) return;
    event.preventDefault();
    const r = rows.find((x) => key(x) === link.closest("tr").dataset.key);
    if (r) inspect(r);
  });
  table.querySelector("thead").addEventListener("click", (event) => {
    const th = event.target.closest("th[data-sort]");
    if (!th) return;
    const k = Number(th.dataset.sort);
    sort = { key: k, dir: sort.key === k ? -sort.dir : 1 };
    render();
  });
  document.getElementById("select-all").addEventListener("change", (event) => {
    shown.filter(removable).forEach((r) => (event.target.checked ? selected.add(key(r)) : selected.delete(key(r))));
    render();
  });
  document.getElementById("remove-selected").addEventListener("click", () => remove(rows.filter((r) => selected.has(key(r)))));
  document.getElementById("inspect-remove").addEventListener("click", () => { if (open) remove([open]); });
  document.getElementById("inspect-close").addEventListener("click", closePanel);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      if (event.target === search) { search.value = ""; render(); search.blur(); } else closePanel();
      return;
    }
    if (typing(event)) return;
    if (event.key === "/") { event.preventDefault(); search.focus(); }
    else if (event.key === "r") load();
  });

  restoreForm(form);
  api("/ui/api/hosts").then((hosts) => {
    may = new Map(hosts.map((h) => [h.name, new Set(h.may)]));
    setUpPrune();
    render();
  }).catch((error) => toast(`Hosts: ${error.message}`, "error", 10));
  load();
}
