// What every page shares: calls to the dashboard's API (with the CSRF token), toasts, formatting,
// and the "g h"-style keys that move between pages.

export const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

export class ApiError extends Error {
  constructor(status, message, data) { super(message); this.status = status; this.data = data ?? { message }; }
}

// JSON from the dashboard; a refusal (the gateway's 401/403, a 4xx/5xx) becomes an ApiError
// carrying the message the engine or the gateway gave, and the whole answer (e.g. the field at fault).
export async function api(path, { method = "GET", body } = {}) {
  const headers = { "Accept": "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = csrf;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body),
                                       credentials: "same-origin" });
  if (response.status === 401) {
    location.assign(`/ui/login?next=${encodeURIComponent(location.pathname + location.search)}`);
    throw new ApiError(401, "signed out");
  }
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { message: text }; }
  if (!response.ok) throw new ApiError(response.status, data?.message ?? response.statusText, data);
  return data;
}

export function toast(message, kind = "info", seconds = 6) {
  const box = document.getElementById("toasts");
  const item = document.createElement("div");
  item.className = `toast ${kind}`;
  item.textContent = message;
  item.setAttribute("role", kind === "error" ? "alert" : "status");
  box.append(item);
  setTimeout(() => item.remove(), seconds * 1000);
}

const escapes = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export const esc = (value) => String(value ?? "").replace(/[&<>"']/g, (c) => escapes[c]);

export function bytes(n) {
  if (n === null || n === undefined || n < 0) return "";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${n < 10 && i ? n.toFixed(1) : Math.round(n)} ${units[i]}`;
}

export function ago(seconds) {
  const d = Date.now() / 1000 - seconds;
  if (d < 60) return "just now";
  const steps = [[60, "minute"], [3600, "hour"], [86400, "day"], [604800, "week"], [2629800, "month"], [31557600, "year"]];
  let [size, unit] = steps[0];
  for (const step of steps) if (d >= step[0]) [size, unit] = step;
  const n = Math.floor(d / size);
  return `${n} ${unit}${n > 1 ? "s" : ""} ago`;
}

// A list page's view lives in the address: its form's values as query parameters (blank ones left
// out), and back when the page opens. A checkbox missing from a query that has any is unticked.
export function formQuery(form) {
  const query = new URLSearchParams();
  for (const [k, v] of new FormData(form)) if (String(v).trim() !== "") query.append(k, String(v).trim());
  return query;
}

export function restoreForm(form) {
  const query = new URLSearchParams(location.search);
  if (![...query.keys()].length) return;
  for (const element of form.elements) {
    if (!element.name) continue;
    if (element.type === "checkbox") element.checked = query.getAll(element.name).includes(element.value);
    else if (query.has(element.name)) element.value = query.get(element.name);
  }
}

// A list page's controls: typing in its search box redraws what was loaded; any other change loads
// again once the typing pauses; Enter loads at once.
export function watchControls(form, search, { redraw, reload }) {
  let timer = null;
  form.addEventListener("input", (event) => {
    if (event.target === search) { redraw(); return; }
    clearTimeout(timer);
    timer = setTimeout(reload, 300);
  });
  form.addEventListener("submit", (event) => { event.preventDefault(); reload(); });
}

export function typing(event) {
  const t = event.target;
  return t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName) || event.ctrlKey || event.metaKey || event.altKey;
}

// Two-key shortcuts: g then h/c/i/n/v/e/a.
const pages = { h: "/ui/", c: "/ui/containers", i: "/ui/images", n: "/ui/networks", v: "/ui/volumes", e: "/ui/events", a: "/ui/audit" };
let leader = 0;
document.addEventListener("keydown", (event) => {
  if (typing(event)) return;
  if (event.key === "g") { leader = Date.now(); return; }
  if (Date.now() - leader < 1500 && pages[event.key]) { location.assign(pages[event.key]); }
  leader = 0;
});
