// Volumes of every host, with the containers using each; sizes come from the engines' disk-use report,
// which can take a while, so only when asked.
import { bytes, esc } from "./common.js";
import { created, resourcePage, usedBy } from "./resources.js";

resourcePage({
  name: "volumes", noun: "volume", removeOp: "VolumeDelete", pruneOp: "VolumePrune",
  label: (r) => r.Name,
  text: (r) => `${r.Name} ${r.Driver} ${r.Mountpoint} ${(r.UsedBy ?? []).join(" ")} ${Object.entries(r.Labels).map(([k, v]) => `${k}=${v}`).join(" ")}`,
  sort: { key: 0, dir: 1 },
  columns: [
    { title: "Name", sort: (r) => r.Name.toLowerCase(),
      cell: (r) => `<span class="mono" title="${esc(r.Name)}">${esc(r.Anonymous ? r.Name.slice(0, 12) : r.Name)}</span>${r.Anonymous ? ` <span class="tag">anonymous</span>` : ""}` },
    { title: "Host", sort: (r) => r.Host, cell: (r) => esc(r.Host) },
    { title: "Driver", sort: (r) => r.Driver, cell: (r) => esc(r.Driver) },
    { title: "Mountpoint", sort: (r) => r.Mountpoint, cell: (r) => `<span class="mono small">${esc(r.Mountpoint)}</span>` },
    { title: "In use by", sort: (r) => r.UsedBy?.length ?? -1, cell: (r) => usedBy(r) },
    { title: "Created", sort: (r) => r.Created ?? 0, cell: created, className: "nowrap" },
    { title: "Size", sort: (r) => r.Size ?? -1, cell: (r) => esc(bytes(r.Size)), className: "size" },
  ],
});
