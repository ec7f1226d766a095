// The container page's tabs, for the modules that fill them (logs, processes, stats, console):
// each registers start/stop, called when its tab is shown or left, so only the visible one streams.
export const page = document.getElementById("container");
export const base = `/ui/api/hosts/${encodeURIComponent(page.dataset.host)}/containers/${encodeURIComponent(page.dataset.id)}`;
const tabs = new Map();

export function registerTab(name, { start = () => {}, stop = () => {} } = {}) {
  tabs.set(name, { start, stop });
}

export function showTab(name) {
  if (!document.getElementById(`tab-${name}`)) name = "overview";
  document.querySelectorAll("section.tab").forEach((s) => { s.hidden = s.id !== `tab-${name}`; });
  document.querySelectorAll(".tabs a").forEach((a) => a.classList.toggle("active", a.hash === `#${name}`));
  for (const [other, tab] of tabs) if (other !== name) tab.stop();
  tabs.get(name)?.start();
}
