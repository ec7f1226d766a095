// Each host's card fills in on its own: a host that does not answer shows as down, the others at once.
import { api, bytes, esc } from "./common.js";

function fact(list, name, value) {
  if (value === undefined || value === null || value === "") return;
  list.insertAdjacentHTML("beforeend", `<dt>${esc(name)}</dt><dd>${esc(value)}</dd>`);
}

async function fill(card) {
  const host = card.dataset.host;
  const state = card.querySelector(".state .text");
  const facts = card.querySelector(".facts");
  try {
    const h = await api(`/ui/api/hosts/${encodeURIComponent(host)}`);
    card.classList.remove("loading");
    card.classList.add("up");
    state.textContent = `up · Docker ${h.version} · API ${h.api}`;
    const c = h.containers;
    fact(facts, "Containers", `${c.running} running, ${c.paused} paused, ${c.stopped} stopped`);
    fact(facts, "Images", h.images);
    fact(facts, "CPUs", h.cpus);
    fact(facts, "Memory", bytes(h.memory));
    fact(facts, "System", `${h.os} · ${h.arch} · kernel ${h.kernel}`);
    fact(facts, "Storage", h.storage_driver);
    fact(facts, "Swarm", h.swarm);
    fact(facts, "Address", h.url);
    if (h.warnings.length) fact(facts, "Warnings", h.warnings.join("; "));
    const df = await api(`/ui/api/hosts/${encodeURIComponent(host)}/df`).catch(() => null);
    if (df) fact(facts, "Disk use", `images ${bytes(df.images)}, containers ${bytes(df.containers)}, volumes ${bytes(df.volumes)}, build cache ${bytes(df.build_cache)}`);
  } catch (error) {
    card.classList.remove("loading");
    card.classList.add("down");
    state.textContent = `down: ${error.message}`;
  }
}

document.querySelectorAll(".card.host").forEach(fill);
