// The create page: a form of docker run's options, or the full JSON create body, kept in step.
// The server builds and checks the body (the same code as `dockgate create`) and the gateway
// polices it; this script moves values between the two views and shows each refusal beside the
// field it concerns.
import { api, esc } from "./common.js";

const FIELDS = ["image", "command", "env", "labels", "ports", "volumes", "restart", "retries", "memory", "cpus"];

const form = document.getElementById("create");
const editor = document.getElementById("f-json");
const status = document.getElementById("json-status");
const host = () => form.elements.host.value;
let mode = "form";
let rest = {};       // the JSON the form has no field for: sent along with the form's values
let images = null;   // the image references on the chosen host, once listed

// A call whose refusal names the field at fault (ApiError.data.field), or says why in its message.
async function call(path, body) {
  try {
    return { ok: true, data: await api(path, { method: "POST", body }) };
  } catch (error) {
    return { ok: false, data: error.data ?? { message: error.message } };
  }
}

// --- the JSON editor's check, as the user types -------------------------------------------------

// Where the text stops being JSON, and keys given twice (JSON.parse keeps the last silently, and
// its messages do not always say where). Only run on text JSON.parse refused or to find duplicates.
function scan(text) {
  let i = 0;
  const fail = (message, at = i) => {
    throw Object.assign(new Error(at >= text.length ? `the text ends too soon (${message})` : message), { at });
  };
  const space = () => { while (i < text.length && " \t\n\r".includes(text[i])) i++; };
  const word = (w) => { if (!text.startsWith(w, i)) fail(`expected ${w}`); i += w.length; };
  function string() {
    const start = i++;
    for (;;) {
      if (i >= text.length) fail("this string is not closed", start);
      const c = text[i];
      if (c === '"') { i++; return JSON.parse(text.slice(start, i)); }
      if (c === "\\") {
        if (!/^(["\\/bfnrt]|u[0-9a-fA-F]{4})/.test(text.slice(i + 1, i + 6))) fail("bad escape in a string");
        i += text[i + 1] === "u" ? 6 : 2;
      } else if (c < " ") {
        fail("a line break or control character inside a string (write \\n)");
      } else i++;
    }
  }
  function value(path) {
    space();
    const c = text[i];
    if (c === "{") return object(path);
    if (c === "[") return array(path);
    if (c === '"') return string();
    if (c === "t") return word("true");
    if (c === "f") return word("false");
    if (c === "n") return word("null");
    const number = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (number) { i += number[0].length; return; }
    fail(i >= text.length ? "expected a value" : `unexpected ${JSON.stringify(c)}`);
  }
  function object(path) {
    i++;
    space();
    if (text[i] === "}") { i++; return; }
    const seen = new Set();
    for (;;) {
      space();
      if (text[i] !== '"') fail('expected a "key" in double quotes');
      const at = i;
      const key = string();
      if (seen.has(key)) fail(`${path}${key} is given twice (the engine would keep only the last)`, at);
      seen.add(key);
      space();
      if (text[i] !== ":") fail('expected ":" after the key');
      i++;
      value(`${path}${key}.`);
      space();
      if (text[i] === ",") { i++; continue; }
      if (text[i] === "}") { i++; return; }
      fail('expected "," or "}"');
    }
  }
  function array(path) {
    i++;
    space();
    if (text[i] === "]") { i++; return; }
    for (;;) {
      value(path);
      space();
      if (text[i] === ",") { i++; continue; }
      if (text[i] === "]") { i++; return; }
      fail('expected "," or "]"');
    }
  }
  value("");
  space();
  if (i < text.length) fail("more text after the end of the body");
}

function where(text, at) {
  const before = text.slice(0, at).split("\n");
  return `Line ${before.length}, column ${before.at(-1).length + 1}`;
}

// {ok, value} for the editor's text, showing under it what is wrong (with line and column).
function check() {
  const text = editor.value;
  let result;
  try {
    let value;
    try {
      value = JSON.parse(text);
    } catch (error) {
      scan(text);  // says where; should it find nothing wrong, JSON.parse's own message is shown
      throw error;
    }
    scan(text);  // valid JSON: still look for keys given twice
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw Object.assign(new Error("the body must be a JSON object { ... }"), { at: text.search(/\S/) });
    }
    const keys = Object.keys(value);
    const image = keys.some((k) => k.toLowerCase() === "image") ? "" : ' · no "Image" yet';
    status.textContent = `valid JSON · ${keys.length} field${keys.length === 1 ? "" : "s"}${image}`;
    result = { ok: true, value };
  } catch (error) {
    status.textContent = text.trim() ? `${where(text, error.at ?? 0)}: ${error.message}`
      : 'Empty: write a create body, e.g. {"Image": "busybox", "Cmd": ["date"]}';
    result = { ok: false };
  }
  status.classList.toggle("bad", !result.ok);
  editor.setAttribute("aria-invalid", String(!result.ok));
  return result;
}

// --- errors beside their fields ------------------------------------------------------------------

function clearErrors() {
  form.querySelectorAll(".field-error, #json-error, #general-error").forEach((p) => { p.hidden = true; p.textContent = ""; });
  form.querySelectorAll(".field.invalid").forEach((f) => f.classList.remove("invalid"));
}

// A refusal's {message, field}: beside the form field it names; the body's own fields in JSON mode
// above the editor; a field the form lacks beside the list of what the JSON adds.
function showError({ message, field }) {
  let box = null;
  if (field === "name" || field === "host") box = form.querySelector(`.field[data-field="${field}"] .field-error`);
  else if (mode === "json") box = document.getElementById("json-error");
  else if (field) box = form.querySelector(`.field[data-field="${field}"]:not([hidden]) .field-error`);
  if (!box && mode === "form" && !document.getElementById("rest").hidden) box = form.querySelector("#rest .field-error");
  box ??= document.getElementById("general-error");
  box.textContent = message;
  box.hidden = false;
  const holder = box.closest(".field");
  holder?.classList.add("invalid");
  (holder?.querySelector("input, textarea, select") ?? (mode === "json" ? editor : null))?.focus();
  box.scrollIntoView({ block: "nearest" });
}

// --- the two views ---------------------------------------------------------------------------------

function values() {
  return Object.fromEntries(FIELDS.map((name) => [name, form.elements[name].value]));
}

function fill(fields) {
  for (const name of FIELDS) form.elements[name].value = fields[name] ?? "";
  retries();
}

function showRest(names) {
  document.getElementById("rest").hidden = names.length === 0;
  document.getElementById("rest-fields").textContent = names.join(", ");
}

function setMode(next) {
  mode = next;
  document.getElementById("form-mode").hidden = mode !== "form";
  document.getElementById("json-mode").hidden = mode !== "json";
  for (const name of ["form", "json"]) {
    const tab = document.getElementById(`mode-${name}`);
    tab.classList.toggle("active", name === mode);
    tab.setAttribute("aria-selected", String(name === mode));
  }
  history.replaceState(null, "", mode === "json" ? "#json" : location.pathname + location.search);
}

async function toJson() {
  clearErrors();
  const { ok, data } = await call("/ui/api/create/body", { form: values(), rest });
  if (!ok) { showError(data); return; }
  editor.value = JSON.stringify(data.body, null, 2);
  setMode("json");
  check();
  editor.focus();
}

async function toForm() {
  clearErrors();
  const parsed = editor.value.trim() ? check() : { ok: true, value: {} };
  if (!parsed.ok) { showError({ message: `Fix the JSON first: ${status.textContent}` }); return; }
  const { ok, data } = await call("/ui/api/create/form", { body: parsed.value });
  if (!ok) { showError(data); return; }
  fill(data.form);
  rest = data.rest;
  setMode("form");
  showRest(data.rest_fields);
  imageHint();
}

function retries() {
  const onFailure = form.elements.restart.value === "on-failure";
  form.querySelector(".retries").hidden = !onFailure;
  if (!onFailure) form.elements.retries.value = "";
}

// --- the image field's suggestions -----------------------------------------------------------------

const tagged = (ref) => (ref.includes("@") || /:[^/]*$/.test(ref) ? ref : `${ref}:latest`);

function imageHint() {
  const ref = form.elements.image.value.trim();
  const hint = document.getElementById("image-hint");
  const absent = images !== null && ref && !ref.startsWith("sha256:") && !images.includes(tagged(ref));
  hint.hidden = !absent;
  hint.textContent = absent ? `Not among the images on ${host()}: the create will fail unless it is there `
    + `(pull it first: dockgate pull ${ref} --host ${host()}).` : "";
}

async function loadImages() {
  const chosen = host();
  images = null;
  imageHint();
  try {
    const data = await api(`/ui/api/hosts/${encodeURIComponent(chosen)}/image-tags`);
    if (chosen !== host()) return;  // another host was picked meanwhile
    images = data.images;
    document.getElementById("image-list").innerHTML = images.map((tag) => `<option value="${esc(tag)}">`).join("");
  } catch {
    document.getElementById("image-list").innerHTML = "";  // suggestions only: the create still says
  }
  imageHint();
}

// --- creating ------------------------------------------------------------------------------------

function created(data, name) {
  const href = `/ui/hosts/${encodeURIComponent(host())}/containers/${encodeURIComponent(data.Id)}`;
  if (!data.Warnings.length && !data.start_error) { location.assign(href); return; }
  const result = document.getElementById("result");
  const what = data.started ? "Created and started" : "Created";
  result.innerHTML = `<h2>${what} <a href="${href}" id="created-link">${esc(name || data.Id.slice(0, 12))}</a> on ${esc(host())}</h2>`
    + (data.start_error ? `<p class="error" id="start-error">It did not start: ${esc(data.start_error)}</p>` : "")
    + (data.Warnings.length ? `<p>The engine warns:</p><ul class="warnings">${data.Warnings.map((w) => `<li>${esc(w)}</li>`).join("")}</ul>` : "");
  result.hidden = false;
  result.scrollIntoView({ block: "nearest" });
}

async function submit(event) {
  event.preventDefault();
  clearErrors();
  document.getElementById("result").hidden = true;
  const payload = { name: form.elements.name.value, start: form.elements.start.checked };
  if (mode === "json") {
    const parsed = check();
    if (!parsed.ok) { showError({ message: `Fix the JSON first: ${status.textContent}` }); return; }
    payload.body = parsed.value;
  } else {
    payload.form = values();
    payload.body = rest;
  }
  const button = document.getElementById("create-button");
  button.disabled = true;
  document.getElementById("busy").hidden = false;
  try {
    const { ok, data } = await call(`/ui/api/hosts/${encodeURIComponent(host())}/containers/create`, payload);
    if (ok) created(data, payload.name.trim());
    else showError(data);
  } catch (error) {
    showError({ message: error.message });
  } finally {
    button.disabled = false;
    document.getElementById("busy").hidden = true;
  }
}

if (form) {
  let timer = null;
  editor.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(check, 150); });
  editor.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
  });
  const switching = (next, to) => (event) => {
    event.preventDefault();
    if (mode !== next) to().catch((error) => showError({ message: error.message }));
  };
  document.getElementById("mode-form").addEventListener("click", switching("form", toForm));
  document.getElementById("mode-json").addEventListener("click", switching("json", toJson));
  form.elements.restart.addEventListener("change", retries);
  form.elements.image.addEventListener("input", imageHint);
  form.elements.host.addEventListener("change", loadImages);
  form.addEventListener("submit", submit);
  loadImages();
  if (location.hash === "#json") toJson().catch((error) => showError({ message: error.message }));
}
