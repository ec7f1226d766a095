// Images of every host, a row per tag: removing a tag's row untags it, an untagged row deletes the image.
import { bytes, esc } from "./common.js";
import { created, resourcePage, usedBy } from "./resources.js";

resourcePage({
  name: "images", noun: "image", removeOp: "ImageDelete", pruneOp: "ImagePrune",
  label: (r) => (r.Tag === "<none>" ? r.Id.replace(/^sha256:/, "").slice(0, 12) : r.Ref),
  text: (r) => `${r.Repository}:${r.Tag} ${r.Id} ${Object.entries(r.Labels).map(([k, v]) => `${k}=${v}`).join(" ")}`,
  sort: { key: 4, dir: -1 },
  columns: [
    { title: "Repository", sort: (r) => r.Repository.toLowerCase(), cell: (r) => esc(r.Repository) },
    { title: "Tag", sort: (r) => r.Tag, cell: (r) => (r.Dangling ? `<span class="tag">dangling</span>` : esc(r.Tag)) },
    { title: "Id", sort: (r) => r.Id, cell: (r) => `<span class="mono" title="${esc(r.Id)}">${esc(r.Id.replace(/^sha256:/, "").slice(0, 12))}</span>` },
    { title: "Host", sort: (r) => r.Host, cell: (r) => esc(r.Host) },
    { title: "Created", sort: (r) => r.Created ?? 0, cell: created, className: "nowrap" },
    { title: "Size", sort: (r) => r.Size ?? -1, cell: (r) => esc(bytes(r.Size)), className: "size" },
    { title: "Containers", sort: (r) => r.UsedBy?.length ?? -1, cell: (r) => usedBy(r, { count: true }) },
  ],
});
