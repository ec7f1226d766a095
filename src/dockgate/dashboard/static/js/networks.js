// Networks of every host, with the containers attached to each; the engines' own three cannot be removed.
import { esc } from "./common.js";
import { created, resourcePage, usedBy } from "./resources.js";

resourcePage({
  name: "networks", noun: "network", removeOp: "NetworkDelete", pruneOp: "NetworkPrune",
  label: (r) => r.Name,
  text: (r) => `${r.Name} ${r.Id} ${r.Driver} ${r.Scope} ${r.Subnets.join(" ")} ${Object.entries(r.Labels).map(([k, v]) => `${k}=${v}`).join(" ")}`,
  removable: (r) => !r.Predefined,
  sort: { key: 0, dir: 1 },
  columns: [
    { title: "Name", sort: (r) => r.Name.toLowerCase(), cell: (r) => esc(r.Name) },
    { title: "Id", sort: (r) => r.Id, cell: (r) => `<span class="mono" title="${esc(r.Id)}">${esc(r.Id.slice(0, 12))}</span>` },
    { title: "Host", sort: (r) => r.Host, cell: (r) => esc(r.Host) },
    { title: "Driver", sort: (r) => r.Driver, cell: (r) => esc(r.Driver) + (r.Internal ? ` <span class="tag">internal</span>` : "") },
    { title: "Scope", sort: (r) => r.Scope, cell: (r) => esc(r.Scope) },
    { title: "Subnet", sort: (r) => r.Subnets.join(","), cell: (r) => `<span class="mono">${esc(r.Subnets.join(", "))}</span>` },
    { title: "Containers", sort: (r) => r.UsedBy?.length ?? -1, cell: (r) => usedBy(r, { count: true }) },
    { title: "Created", sort: (r) => r.Created ?? 0, cell: created, className: "nowrap" },
  ],
});
