// The container page's Console tab: a terminal (xterm.js, which the page loads as classic scripts
// that set window.Terminal and window.FitAddon) on a `docker exec -it` that the dashboard relays
// over a WebSocket and the gateway authorises and audits. Keys go out as binary frames; text frames
// are JSON control messages: {resize: [rows, cols]} out, {exit: code} or {error: message} in.
//
// The session outlives a visit to another tab (a shell's work is not a stream to pause); it ends
// with its process, the Stop button, or the page.
import { csrf } from "./common.js";
import { base, registerTab } from "./container-tabs.js";

const form = document.getElementById("exec-controls");  // absent for users who may not exec
const button = document.getElementById("exec-start");
const status = document.getElementById("exec-status");
const box = document.getElementById("terminal");
const encoder = new TextEncoder();
let terminal = null;
let fit = null;
let socket = null;

function send(data) {
  if (socket?.readyState === WebSocket.OPEN) socket.send(data);
}

// Made when the tab is first shown: the fit addon measures the box, which has no size while hidden.
function show() {
  if (!terminal) {
    terminal = new window.Terminal({
      cursorBlink: true, fontSize: 13, scrollback: 5000,
      fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace',
      theme: { background: getComputedStyle(box).backgroundColor },  // the box's colour, to its edges
    });
    fit = new window.FitAddon.FitAddon();
    terminal.loadAddon(fit);
    terminal.open(box);
    terminal.onData((data) => send(encoder.encode(data)));
    terminal.onBinary((data) => send(Uint8Array.from(data, (c) => c.charCodeAt(0))));
    terminal.onResize(({ rows, cols }) => send(JSON.stringify({ resize: [rows, cols] })));
    window.addEventListener("resize", () => { if (!box.closest("section").hidden) fit.fit(); });
    window.dockgateTerminal = terminal;  // read by the end-to-end tests
  }
  fit.fit();
  terminal.focus();
}

function running(yes, text) {
  button.textContent = yes ? "Stop" : "Start";
  button.classList.toggle("danger", yes);
  button.classList.toggle("primary", !yes);
  status.textContent = text;
}

function ended(text) {
  terminal.write(`\r\n\x1b[2m[${text}]\x1b[0m\r\n`);
  running(false, text);
}

function start() {
  const cmd = form.elements.cmd.value.trim() || "sh";
  const user = form.elements.user.value.trim();
  const query = new URLSearchParams({ cmd, rows: terminal.rows, cols: terminal.cols, csrf });
  if (user) query.set("user", user);
  const url = new URL(`${base}/exec?${query}`, location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  terminal.reset();
  const ws = socket = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  let told = false;  // whether the server said why it ends
  running(true, "connecting…");
  ws.onopen = () => { status.textContent = `running ${cmd}${user ? ` as ${user}` : ""}`; terminal.focus(); };
  ws.onmessage = ({ data }) => {
    if (typeof data !== "string") { terminal.write(new Uint8Array(data)); return; }
    const message = JSON.parse(data);
    told = true;
    if ("error" in message) ended(`error: ${message.error}`);
    else ended(message.exit === null ? "ended (exit code unknown)" : `exited with code ${message.exit}`);
  };
  ws.onclose = () => {
    if (socket !== ws) return;
    socket = null;
    if (!told) ended("disconnected");
  };
}

if (form) {
  registerTab("exec", { start: show });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (socket) { socket.close(); socket = null; ended("stopped"); } else start();
  });
}
