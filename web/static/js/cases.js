// The case workbench: every case (not only the map's view), filtered, sorted, paged, counted
// per status, saved filters, background exports, and the same filter's cases on a map.
// The filter lives in the URL fragment (#status=…&category=…&page=2), so a view is a link.
/* global L */
import { json, send, session, vocabulary } from "./api.js";
import { byId, el } from "./dom.js";
import { currentLang, errorText, setLang, t } from "./i18n.js";
import { createMap, fitDistricts, setBaseMap, textNode, vectorLayer } from "./map.js";
import { config, duration, startPage } from "./page.js";

const PAGE = 50;
const FIELDS = ["q", "category", "source", "area", "code", "unit", "level", "since", "until"];
const form = byId("filters");
let words = null;
let current = null; // the URLSearchParams of the list shown

function filterParams() {
  return new URLSearchParams(location.hash.slice(1));
}

function apiParams(params) {
  const out = new URLSearchParams();
  for (const [key, value] of params) {
    if (!value || key === "page") continue;
    if (key === "since" || key === "until") out.set(key, `${value}T00:00:00+08:00`);
    else if (key === "code") out.set("area", value); // a community's, grid's or micro-grid's code: narrower than the street
    else out.set(key, value);
  }
  return out;
}

function go(params) {
  params.delete("page");
  history.replaceState(null, "", `#${params}`);
  return load();
}

function statusName(status) {
  const word = words.statuses.find((s) => s.status === status);
  return word ? word[currentLang()] : status;
}

// --- the list ----------------------------------------------------------------------------------
function timeLeft(c) {
  const bar = el("div", null, "bar");
  const start = new Date(c.received_at).getTime();
  const end = new Date(c.deadline).getTime();
  const now = Date.now();
  const used = Math.min(1, Math.max(0, (now - start) / Math.max(1, end - start)));
  const fill = el("i");
  fill.style.width = `${Math.round(used * 100)}%`;
  let text;
  if (c.suspended_at) { bar.classList.add("paused"); text = t("suspended"); }
  else if (!words.statuses.find((s) => s.status === c.status).open) { text = "—"; fill.style.width = "0"; }
  else {
    const hours = (end - now) / 3_600_000;
    text = hours >= 0 ? `${t("left")} ${duration(hours)}` : `${t("over")} ${duration(hours)}`;
    if (c.overdue) bar.classList.add(c.overdue);
  }
  bar.dataset.level = c.overdue || "";
  bar.append(fill);
  const cell = el("div", null, "left");
  cell.append(bar, el("span", text));
  return cell;
}

function row(c) {
  const tr = el("tr");
  tr.dataset.id = c.id;
  const link = el("a", c.number);
  link.href = `/cases/${c.number}`;
  const number = el("td");
  number.append(link);
  const address = (c.location_input && c.location_input.address) || c.community_name || c.unit_name || "";
  const source = words.sources.find((s) => s.source === c.source);
  const age = (Date.now() - new Date(c.received_at).getTime()) / 3_600_000;
  const status = el("td", statusName(c.status));
  if (c.urged) status.append(el("small", ` · ${t("urged_times")} ${c.urged}`, "flag-amber"));
  const left = el("td");
  left.append(timeLeft(c));
  tr.append(number, el("td", c.category_name), status, el("td", address), el("td", source ? source[currentLang()] : c.source),
    el("td", duration(age)), left);
  return tr;
}

let listSeq = 0; // a later filter wins: the answer of a superseded one is dropped
let clusterSeq = 0;

async function loadList(params) {
  const mine = ++listSeq;
  const table = byId("cases");
  table.setAttribute("aria-busy", "true"); // until the rows of this filter are in
  const query = apiParams(params);
  const page = Number(params.get("page") || 1);
  query.set("limit", PAGE);
  query.set("offset", (page - 1) * PAGE);
  if (!query.get("sort")) query.set("sort", "-received_at");
  const counts = apiParams(params);
  counts.delete("sort");
  const embedded = config.list && !location.hash.slice(1); // the first page, in the page itself
  const [list, tally] = embedded
    ? [config.list, config.counts]
    : await Promise.all([json(`/api/incidents?${query}`), json(`/api/incidents/counts?${counts}`)]);
  config.list = null;
  if (mine !== listSeq) return;
  byId("cases").tBodies[0].replaceChildren(...list.incidents.map(row));
  const first = list.numberMatched ? (page - 1) * PAGE + 1 : 0;
  byId("matched").textContent = `${first}–${(page - 1) * PAGE + list.numberReturned} ${t("of")} ${list.numberMatched} ${t("matched")}`;
  byId("page").textContent = `${page} / ${Math.max(1, Math.ceil(list.numberMatched / PAGE))}`;
  byId("prev").disabled = page <= 1;
  byId("next").disabled = page * PAGE >= list.numberMatched;
  drawTabs(params, tally);
  for (const b of document.querySelectorAll("[data-sort]")) {
    const sort = query.get("sort");
    if (sort.replace("-", "") === b.dataset.sort) b.dataset.dir = sort.startsWith("-") ? "desc" : "asc";
    else delete b.dataset.dir;
  }
  document.body.dataset.matched = String(list.numberMatched);
  document.body.dataset.rows = String(list.numberReturned);
  table.removeAttribute("aria-busy");
  // User Timing for `make bench`: the frame that shows the rows, and a filter change's redraw
  requestAnimationFrame(() => setTimeout(() => {
    performance.mark("rows-painted");
    if (performance.getEntriesByName("filter-start").length) {
      performance.measure("filter-change", "filter-start");
      performance.clearMarks("filter-start");
    }
  }));
}

function drawTabs(params, tally) {
  const chosen = params.get("status") || "";
  const open = words.statuses.filter((s) => s.open).map((s) => s.status).join(",");
  const sum = (list) => list.reduce((n, s) => n + (tally.statuses[s] || 0), 0);
  const tabs = [["", t("all_statuses"), sum(Object.keys(tally.statuses))], [open, t("open_cases"), sum(open.split(","))]];
  for (const s of words.statuses) tabs.push([s.status, s[currentLang()], tally.statuses[s.status] || 0]);
  byId("tabs").replaceChildren(...tabs.map(([status, label, n]) => {
    const b = el("button", `${label} ${n}`);
    b.type = "button";
    b.setAttribute("role", "tab");
    b.dataset.status = status;
    b.setAttribute("aria-selected", String(status === chosen));
    b.addEventListener("click", () => {
      performance.mark("filter-start");
      const p = filterParams();
      if (status) p.set("status", status); else p.delete("status");
      go(p);
    });
    return b;
  }));
}

// --- the map: the same filter, clustered on the server -----------------------------------------
const map = createMap("map", { center: [36.09, 120.37], zoom: 13 });
fitDistricts(map);
setBaseMap(map, config.basemap, { tiandituKey: config.tianditu_key });
const clusterLayer = L.layerGroup().addTo(map);
let fitted = false;
let outlined = false; // the map's street and community outlines, added after the first rows // the first clusters set the view; after that the user's zoom is kept
async function loadClusters() {
  if (!current) return;
  const query = apiParams(current);
  query.delete("sort");
  query.set("zoom", map.getZoom());
  if (fitted) { // after the first view: the cells in (and around) the view only
    const b = map.getBounds().pad(0.25);
    query.set("bbox", [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(5)).join(","));
  }
  const mine = ++clusterSeq;
  const answer = await json(`/api/incidents/clusters?${query}`);
  if (mine !== clusterSeq) return;
  clusterLayer.clearLayers();
  for (const c of answer.clusters) {
    const size = 16 + Math.min(24, Math.log2(c.count) * 4);
    const icon = L.divIcon({ className: `cluster ${c.overdue || ""}`, iconSize: [size, size], html: "" });
    const marker = L.marker([c.lat, c.lon], { icon, keyboard: false });
    marker.on("add", () => { marker.getElement().textContent = String(c.count); marker.getElement().style.lineHeight = `${size - 4}px`; });
    marker.bindTooltip(textNode(c.number ? `${c.number}` : `${c.count} ${t("cases")}`));
    marker.on("click", () => {
      if (c.number) location.href = `/cases/${c.number}`;
      else map.setView([c.lat, c.lon], Math.min(map.getZoom() + 2, 19));
    });
    marker.addTo(clusterLayer);
  }
  document.body.dataset.clusters = String(answer.clusters.length);
  if (!fitted && answer.clusters.length) {
    fitted = true;
    map.fitBounds(L.latLngBounds(answer.clusters.map((c) => [c.lat, c.lon])), { maxZoom: 16 });
  }
}
map.on("moveend", () => loadClusters().catch(showError));

// --- saved filters ---------------------------------------------------------------------------
function presets(s) {
  const mine = [];
  if (words.dispatchers.includes(s.role)) mine.push([t("my_todo"), s.unit ? `status=received,registered&area=${s.unit}` : "status=received,registered"]);
  else if (s.unit) mine.push([t("my_todo"), `unit=${s.unit}&status=dispatched,in_progress,rework`]);
  if (s.unit) mine.push([t("my_unit"), `unit=${s.unit}`]);
  mine.push([t("overdue_red"), "level=red&sort=deadline"], [t("due_soon"), "level=amber&sort=deadline"], [t("suspended"), "level=suspended"]);
  return mine;
}

async function drawPresets(s) {
  const saved = (await json("/api/me/filters")).filters;
  const items = [...presets(s).map(([name, query]) => ({ name, query, builtIn: true })), ...saved];
  byId("presets").replaceChildren(...items.map((f) => {
    const li = el("li");
    const b = el("button", f.name);
    b.type = "button";
    b.dataset.preset = f.name;
    b.dataset.query = new URLSearchParams(f.query).toString();
    b.addEventListener("click", () => go(new URLSearchParams(f.query)));
    li.append(b);
    if (!f.builtIn) {
      const x = el("button", "×", "remove");
      x.type = "button";
      x.title = f.name;
      x.addEventListener("click", async () => {
        await json(`/api/me/filters/${encodeURIComponent(f.name)}`, { method: "DELETE" }).catch(() => {});
        drawPresets(s);
      });
      li.append(x);
    }
    return li;
  }));
  markPresets();
}

// The saved filter the list shows, if any, is marked.
function markPresets() {
  const shown = filterParams();
  shown.delete("page");
  for (const b of document.querySelectorAll("[data-preset]")) b.setAttribute("aria-pressed", String(b.dataset.query === shown.toString()));
}

byId("save-filter").addEventListener("click", async () => {
  const name = (prompt(t("filter_name")) || "").trim();
  if (!name) return;
  const query = filterParams();
  query.delete("page");
  try {
    await send(`/api/me/filters/${encodeURIComponent(name)}`, "PUT", { query: query.toString() });
    drawPresets(session());
  } catch (error) { showError(error); }
});

// --- exports ---------------------------------------------------------------------------------
async function exportAs(format) {
  const query = apiParams(current);
  query.set("f", format);
  const state = byId("export-state");
  const link = byId("export-link");
  link.hidden = true;
  try {
    let job = await json(`/api/incidents/exports?${query}`, { method: "POST" });
    while (job.state === "running") {
      state.textContent = `${t("exporting")} ${job.done} / ${job.total}`;
      await new Promise((r) => setTimeout(r, 400));
      job = await json(`/api/incidents/exports/${job.id}`);
    }
    if (job.state !== "done") throw new Error(job.error);
    state.textContent = `${job.total} ${t("matched")}`;
    link.href = job.file_url;
    link.download = `cases.${format}`;
    link.hidden = false;
  } catch (error) { showError(error); state.textContent = ""; }
}
byId("export-csv").addEventListener("click", () => exportAs("csv"));
byId("export-xlsx").addEventListener("click", () => exportAs("xlsx"));

// --- filters, sorting, paging ------------------------------------------------------------------
function showError(error) {
  const p = byId("list-error");
  p.hidden = false;
  p.textContent = errorText(error);
  p.title = error.message || "";
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const params = filterParams();
  for (const name of FIELDS) {
    const value = (form.elements[name].value || "").trim();
    if (value) params.set(name, value); else params.delete(name);
  }
  go(params);
});
for (const b of document.querySelectorAll("[data-sort]")) {
  b.addEventListener("click", () => {
    const params = filterParams();
    const sort = params.get("sort") || "-received_at";
    params.set("sort", sort === b.dataset.sort ? `-${b.dataset.sort}` : b.dataset.sort);
    go(params);
  });
}
function turn(step) {
  const params = filterParams();
  params.set("page", String(Number(params.get("page") || 1) + step));
  history.replaceState(null, "", `#${params}`);
  load();
}
byId("prev").addEventListener("click", () => turn(-1));
byId("next").addEventListener("click", () => turn(1));

function fillChoices() {
  const { catalogue, streets } = config; // in the page: no request before the first paint
  for (const c of catalogue.categories) form.elements.category.append(new Option(`${c.code} ${c.name}`, c.code));
  for (const d of catalogue.departments) form.elements.unit.append(new Option(d.name, d.code));
  for (const street of streets) form.elements.area.append(new Option(street.name, street.code));
  for (const s of words.sources) form.elements.source.append(new Option(s[currentLang()], s.source));
}

async function load() {
  byId("list-error").hidden = true;
  current = filterParams();
  markPresets();
  for (const name of FIELDS) form.elements[name].value = current.get(name) || "";
  try {
    await loadList(current); // the rows first: the map's clusters and outlines after them
    if (!outlined) { outlined = true; for (const name of ["communities", "streets"]) vectorLayer(name).addTo(map); }
    await loadClusters();
  } catch (error) { byId("cases").removeAttribute("aria-busy"); showError(error); }
  document.body.dataset.loads = String(Number(document.body.dataset.loads || 0) + 1);
  document.body.dataset.ready = "true";
}

let started = false;
startPage(async (s) => {
  words = words || (await vocabulary());
  if (!started) { started = true; fillChoices(); }
  await load();
  await drawPresets(s).catch(showError); // after the rows: they are what the user came for
}, () => { setLang(currentLang()); if (words && current) load(); });
