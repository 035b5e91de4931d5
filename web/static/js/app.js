// The map application: dispatcher, hotspot and planner views over one Leaflet map.
// Every answer from the API is shown as text (textContent), never parsed as HTML.
/* global L */
import { createMap, setBaseMap, textNode, vectorLayer } from "./map.js";
import { currentLang, setLang, t } from "./i18n.js";

const config = JSON.parse(document.getElementById("config").textContent);
const VIEWS = ["dispatch", "hotspots", "planner"];
const OPEN = "received,registered,dispatched,in_progress,verifying,rework";

// --- state in the URL: #view=…&z=…&c=lat,lon&base=…&<filters> ---------------------------------
const state = Object.fromEntries(new URLSearchParams(location.hash.slice(1)));
const view = () => (VIEWS.includes(state.view) ? state.view : "dispatch");
function saveState() {
  const c = map.getCenter();
  state.z = String(map.getZoom());
  state.c = `${c.lat.toFixed(5)},${c.lng.toFixed(5)}`;
  history.replaceState(null, "", `#${new URLSearchParams(state)}`);
}

const [lat0, lon0] = (state.c || "36.095,120.37").split(",").map(Number);
const map = createMap("map", { center: [lat0, lon0], zoom: Number(state.z) || 13 });
const byId = (id) => document.getElementById(id);
const el = (tag, text, cls) => {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
};

function session() {
  try { return JSON.parse(sessionStorage.getItem("wangge.session")); } catch { return null; }
}
async function api(path, options = {}) {
  const s = session();
  const headers = { ...(options.headers || {}) };
  if (s) headers.Authorization = `Bearer ${s.token}`;
  const response = await fetch(path, { ...options, headers });
  if (!response.ok) {
    let message = `HTTP ${response.status}`;
    try { message = (await response.json()).error.message; } catch { /* not JSON */ }
    throw new Error(message);
  }
  return response;
}
const json = async (path, options) => (await api(path, options)).json();

// --- base map and layers --------------------------------------------------------------------
state.base = setBaseMap(map, state.base || config.basemap, { tiandituKey: config.tianditu_key });
byId("base").value = state.base;
byId("base").addEventListener("change", (e) => {
  state.base = setBaseMap(map, e.target.value, { tiandituKey: config.tianditu_key });
  e.target.value = state.base;
  saveState();
});

const hoverTip = L.tooltip({ direction: "top", offset: [0, -4] });
function showTip(text, latlng) {
  hoverTip.setLatLng(latlng).setContent(textNode(text));
  if (!map.hasLayer(hoverTip)) hoverTip.addTo(map);
}
for (const name of ["micro_grids", "grids", "communities", "streets"]) vectorLayer(name).addTo(map);
vectorLayer("parking", {
  onHover: (p, ll) => showTip(`${p.name} · ${p.spaces ?? "?"} / EV ${p.ev_spaces ?? 0}`, ll),
  onClick: (p) => openAsset(p.id),
}).addTo(map);
vectorLayer("manhole_covers", {
  onHover: (p, ll) => showTip(`${p.id} · ${p.status}`, ll),
  onClick: (p) => openAsset(p.id),
}).addTo(map);

// Street names at low zoom, from the OGC API (the labels carry the map when there is no base map).
const labels = L.layerGroup().addTo(map);
json("/collections/streets/items?limit=100").then((fc) => {
  for (const f of fc.features) {
    const center = L.geoJSON(f).getBounds().getCenter();
    L.marker(center, {
      interactive: false, keyboard: false,
      icon: L.divIcon({ className: "street-label", html: "", iconSize: null }),
    }).addTo(labels).getElement().textContent = f.properties.name;
  }
});
map.on("zoomend", () => {
  const show = map.getZoom() <= 14;
  if (show !== map.hasLayer(labels)) (show ? labels.addTo(map) : map.removeLayer(labels));
});

// Legend (per view) as a Leaflet control.
const legend = L.control({ position: "bottomright" });
legend.onAdd = () => el("div", null, "legend");
legend.addTo(map);
function drawLegend() {
  // a <details>: open on a desktop, folded on a phone where it would cover the map
  const container = legend.getContainer();
  const box = el("details");
  box.open = window.innerWidth > 700;
  box.append(el("summary", t("legend")));
  container.replaceChildren(box);
  const rows = {
    dispatch: [["#e74c3c", t("cover_bad")], ["#90a4ae", t("cover_ok")], ["#27ae60", t("park_ev")], ["#8bc34a", t("park")], ["#f1c40f", t("planned")], ["#d35400", t("case")]],
    hotspots: [["#d7301f", t("hot_cell")], ["#2b8cbe", t("cold_cell")], ["#fdd49e", t("cases")]],
    planner: [["#e74c3c", t("uncovered")], ["#27ae60", t("park_ev")], ["#8bc34a", t("park")]],
  }[view()];
  for (const [color, label] of rows) {
    const row = el("div");
    const swatch = el("i");
    swatch.style.background = color;
    row.append(swatch, label);
    box.append(row);
  }
  box.append(el("div", t("generated"), "generated"));
}

// --- the locate panel -------------------------------------------------------------------------
const results = byId("results");
const pin = L.circleMarker([0, 0], { radius: 7, color: "#c0392b", weight: 3, fillOpacity: 0.2 });
let microOutline = null;

async function locate(lon, lat, crs = "wgs84") {
  const params = new URLSearchParams({ lon, lat, crs });
  if (state.category) params.set("category", state.category);
  const answer = await json(`/api/locate?${params}`);
  const [x, y] = answer.point.coordinates;
  pin.setLatLng([y, x]).addTo(map);
  results.hidden = false;
  results.replaceChildren(el("h2", t("located")));
  const chain = el("ul", null, "chain");
  if (!answer.inside) chain.append(el("li", `${t("outside")} (${answer.distance_m} m)`, "flag-amber"));
  for (const [key, label] of [["street", t("street")], ["community", t("community")], ["grid", t("grid")], ["micro_grid", t("micro_grid")]]) {
    const area = answer[key];
    if (!area) continue;
    const li = el("li", `${label}: ${area.name} `);
    li.append(el("span", area.code, "code"));
    if (key === "micro_grid") li.id = "located-micro-grid";
    chain.append(li);
  }
  if (answer.grid && answer.grid.worker) chain.append(el("li", `${t("worker")}: ${answer.grid.worker.name}${answer.grid.worker.phone ? ` · ${answer.grid.worker.phone}` : ""}`));
  results.append(chain);
  if (answer.nearest_assets && answer.nearest_assets.length) {
    results.append(el("h3", t("nearest_assets")));
    const list = el("ol", null, "list");
    for (const a of answer.nearest_assets) {
      const li = el("li", `${a.kind} ${a.subclass} · ${a.id} · ${a.distance_m} m`);
      li.tabIndex = 0;
      li.addEventListener("click", () => openAsset(a.id));
      list.append(li);
    }
    results.append(list);
  }
  if (answer.nearby_incidents && answer.nearby_incidents.length) {
    results.append(el("h3", t("nearby_cases")));
    const list = el("ol", null, "list");
    for (const c of answer.nearby_incidents) list.append(el("li", `${c.number} · ${c.category_name || c.category} · ${c.distance_m} m`));
    results.append(list);
  }
  if (microOutline) map.removeLayer(microOutline);
  if (answer.micro_grid) {
    json(`/collections/micro_grids/items/${answer.micro_grid.code}`).then((f) => {
      if (microOutline) map.removeLayer(microOutline);
      microOutline = L.geoJSON(f, { style: { color: "#c0392b", weight: 2, fill: false }, interactive: false }).addTo(map);
    }).catch(() => {});
  }
  document.body.dataset.located = answer.micro_grid ? answer.micro_grid.code : "outside";
  return answer;
}
map.on("click", (e) => locate(e.latlng.lng.toFixed(7), e.latlng.lat.toFixed(7)).catch(showError));

function assetLink(id) {
  const a = el("a", `/a/${id}`);
  a.href = `/a/${encodeURIComponent(id)}`;
  return a;
}
function openAsset(id) {
  window.open(`/a/${encodeURIComponent(id)}`, "_blank", "noopener");
}
function showError(error) {
  results.hidden = false;
  results.replaceChildren(el("p", error.message, "flag-red"));
}

// --- search: coordinates in any CRS, asset IDs, area codes, addresses --------------------------
const COORDS = /^(?:([a-z0-9:]+)\s*[:：]\s*)?(-?\d+(?:\.\d+)?)\s*[,，\s]\s*(-?\d+(?:\.\d+)?)$/i;
byId("search").addEventListener("submit", async (event) => {
  event.preventDefault();
  const q = byId("q").value.trim();
  if (!q) return;
  try {
    const coords = q.match(COORDS);
    if (coords) {
      const answer = await locate(coords[2], coords[3], coords[1] || "wgs84");
      const [x, y] = answer.point.coordinates;
      map.setView([y, x], Math.max(map.getZoom(), 16));
    } else if (/^\d{16}$/.test(q)) {
      const asset = await json(`/api/assets/${q}`);
      const [x, y] = asset.geometry.coordinates;
      map.setView([y, x], 18);
      await locate(x, y);
      results.prepend(el("h2", `${asset.properties.subclass_name || asset.properties.kind} ${asset.id}`), assetLink(asset.id));
    } else if (/^\d{9}$|^\d{12}$|^\d{15}$|^\d{18}$/.test(q)) {
      const collection = { 9: "streets", 12: "communities", 15: "grids", 18: "micro_grids" }[q.length];
      const area = await json(`/collections/${collection}/items/${q}`);
      map.fitBounds(L.geoJSON(area).getBounds());
      results.hidden = false;
      results.replaceChildren(el("h2", `${area.properties.name} ${q}`));
    } else {
      const found = await json(`/api/geocode?${new URLSearchParams({ q, limit: 8 })}`);
      results.hidden = false;
      results.replaceChildren(el("h2", q));
      if (!found.results.length) results.append(el("p", t("no_results")));
      const list = el("ol", null, "list");
      for (const r of found.results) {
        const li = el("li", `${r.address}${r.micro_grid ? ` · ${r.micro_grid.code}` : ""}`);
        li.tabIndex = 0;
        const choose = () => {
          const [x, y] = r.point.coordinates;
          map.setView([y, x], 18);
          locate(x, y).catch(showError);
        };
        li.addEventListener("click", choose);
        li.addEventListener("keydown", (e) => { if (e.key === "Enter") choose(); });
        list.append(li);
      }
      results.append(list);
      if (found.results.length) list.firstChild.focus();
    }
  } catch (error) {
    showError(error);
  }
});

// --- dispatcher: the incident queue -------------------------------------------------------------
const caseLayer = L.layerGroup();
const queueForm = byId("queue-filters");
async function loadQueue() {
  const form = new FormData(queueForm);
  const params = new URLSearchParams({ f: "geojson", limit: 200, sort: "deadline", status: form.get("status") || OPEN });
  const b = map.getBounds();
  params.set("bbox", [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(5)).join(","));
  if (form.get("category")) params.set("category", form.get("category"));
  if (form.get("overdue")) params.set("overdue", "true");
  state.status = form.get("status") || "";
  state.category = form.get("category") || "";
  state.overdue = form.get("overdue") ? "1" : "";
  saveState();
  const fc = await json(`/api/incidents?${params}`);
  caseLayer.clearLayers();
  const list = byId("queue");
  list.replaceChildren();
  const s = session();
  const canDispatch = s && ["dispatcher", "admin"].includes(s.role);
  for (const f of fc.features) {
    const p = f.properties;
    const [x, y] = f.geometry ? f.geometry.coordinates : [null, null];
    const flag = p.overdue ? ` ⚑${t(p.overdue)}` : "";
    const li = el("li", `${p.number} · ${p.category_name} · ${t(p.status)}${flag}`, p.overdue ? `flag-${p.overdue}` : "");
    li.tabIndex = 0;
    li.dataset.id = p.id;
    if (x !== null) {
      const marker = L.circleMarker([y, x], { radius: 5, color: p.overdue === "red" ? "#c0392b" : "#d35400", weight: 2, fillOpacity: 0.7 });
      marker.bindTooltip(textNode(`${p.number} ${p.category_name}`));
      marker.addTo(caseLayer);
      li.addEventListener("click", () => { map.setView([y, x], Math.max(map.getZoom(), 17)); locate(x, y).catch(showError); });
    }
    if (canDispatch && p.status === "registered") {
      const button = el("button", t("dispatch_action"));
      button.type = "button";
      button.addEventListener("click", async (event) => {
        event.stopPropagation();
        try {
          await api(`/api/incidents/${p.id}/transitions`, {
            method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ to: "dispatched", note: "map" }),
          });
          loadQueue();
        } catch (error) { showError(error); }
      });
      li.append(" ", button);
    }
    list.append(li);
  }
  document.body.dataset.queue = String(fc.features.length);
}
queueForm.addEventListener("change", () => loadQueue().catch(showError));

// --- hotspots: H3 Gi* cells, a heat layer, month over month by street ---------------------------
const hexLayer = L.geoJSON(null, {
  style: (f) => {
    const c = f.properties.class;
    return { weight: 0.5, color: "#888", fillOpacity: c === "none" ? 0.25 : 0.6, fillColor: c === "hot" ? "#d7301f" : c === "cold" ? "#2b8cbe" : "#fdd49e" };
  },
  onEachFeature: (f, layer) => layer.bindTooltip(textNode(`${f.properties.count} ${t("cases")} · z=${f.properties.z.toFixed(2)} · ${f.properties.class}`)),
});
const heat = L.heatLayer([], { radius: 22, blur: 18, maxZoom: 16 });
const hotForm = byId("hot-filters");
async function loadHotspots() {
  const form = new FormData(hotForm);
  const until = new Date();
  const since = new Date(until.getTime() - Number(form.get("days")) * 86400000);
  const day = (d) => d.toISOString().slice(0, 10);
  const params = new URLSearchParams({ res: form.get("res"), since: day(since), until: day(until) });
  if (form.get("category")) params.set("category", form.get("category"));
  state.hcat = form.get("category") || "";
  state.days = form.get("days");
  state.res = form.get("res");
  saveState();
  const fc = await json(`/api/analytics/hotspots?${params}`);
  hexLayer.clearLayers().addData(fc);
  const max = Math.max(1, ...fc.features.map((f) => f.properties.count));
  heat.setLatLngs(fc.features.map((f) => {
    const ring = f.geometry.coordinates[0];
    const lon = ring.slice(0, -1).reduce((s, p) => s + p[0], 0) / (ring.length - 1);
    const lat = ring.slice(0, -1).reduce((s, p) => s + p[1], 0) / (ring.length - 1);
    return [lat, lon, f.properties.count / max];
  }));
  const s = fc.summary;
  byId("hot-summary").textContent = `${s.since} – ${s.until}: ${s.cases} ${t("cases")}, ${s.cells} ${t("cells")}; ${t("hot")} ${s.hot}, ${t("cold")} ${s.cold}`;
  const beijing = new Date(Date.now() + 8 * 3600000); // the last complete month, in Beijing
  const month = new Date(Date.UTC(beijing.getUTCFullYear(), beijing.getUTCMonth() - 1, 1)).toISOString().slice(0, 7);
  const trendParams = new URLSearchParams({ by: "street", month });
  if (form.get("category")) trendParams.set("category", form.get("category"));
  const trend = await json(`/api/analytics/trends?${trendParams}`);
  const body = byId("mom").tBodies[0];
  body.replaceChildren();
  for (const r of trend.results.filter((r) => r.street)) {
    const tr = el("tr");
    const pct = r.change_pct === null ? "–" : `${r.change_pct > 0 ? "+" : ""}${r.change_pct}`;
    tr.append(el("td", r.name), el("td", r.count), el("td", r.previous), el("td", pct, r.change > 0 ? "up" : r.change < 0 ? "down" : ""));
    body.append(tr);
  }
  document.body.dataset.hotspots = String(fc.features.length);
}
hotForm.addEventListener("change", () => loadHotspots().catch(showError));

// --- planner: coverage ---------------------------------------------------------------------------
const uncovered = L.geoJSON(null, {
  style: { color: "#c0392b", weight: 1, fillColor: "#e74c3c", fillOpacity: 0.45 },
  onEachFeature: (f, layer) => layer.bindTooltip(textNode(`${f.properties.name} · ${f.properties.distance_m ?? "–"} m`)),
});
const coverageForm = byId("coverage-filters");
async function loadCoverage() {
  const form = new FormData(coverageForm);
  const params = new URLSearchParams({ layer: form.get("layer"), radius_m: form.get("radius_m"), by: form.get("by") });
  if (form.get("ev")) params.set("ev", "true");
  Object.assign(state, { layer: params.get("layer"), radius: params.get("radius_m"), by: params.get("by"), ev: params.get("ev") || "" });
  saveState();
  byId("coverage-csv").href = `/api/analytics/coverage?${params}&f=csv`;
  const answer = await json(`/api/analytics/coverage?${params}`);
  uncovered.clearLayers().addData(answer.uncovered);
  const m = answer.micro_grids;
  const h = answer.households;
  byId("coverage-summary").textContent = `${answer.facilities} · ${t("micro")} ${m.covered} ${t("of")} ${m.total} (${(m.share * 100).toFixed(1)}%) · ${t("households")} ${(h.share * 100).toFixed(1)}%`;
  const body = byId("coverage-table").tBodies[0];
  body.replaceChildren();
  for (const g of answer.groups) {
    const tr = el("tr");
    tr.append(el("td", g.name || g[answer.by]), el("td", g.micro_grids), el("td", `${(g.share * 100).toFixed(0)}%`), el("td", `${(g.households_share * 100).toFixed(0)}%`));
    body.append(tr);
  }
  document.body.dataset.coverage = String(answer.uncovered.features.length);
}
coverageForm.addEventListener("change", () => loadCoverage().catch(showError));

// --- views ------------------------------------------------------------------------------------
const overlays = { dispatch: [caseLayer], hotspots: [hexLayer, heat], planner: [uncovered] };
function showView(name) {
  state.view = name;
  for (const button of document.querySelectorAll("[data-view]")) button.setAttribute("aria-selected", String(button.dataset.view === name));
  for (const panel of document.querySelectorAll("[data-panel]")) panel.hidden = panel.dataset.panel !== name;
  for (const [key, layers] of Object.entries(overlays)) for (const layer of layers) (key === name ? map.addLayer(layer) : map.removeLayer(layer));
  drawLegend();
  saveState();
  const load = { dispatch: loadQueue, hotspots: loadHotspots, planner: loadCoverage }[name];
  return load().catch(showError);
}
for (const button of document.querySelectorAll("[data-view]")) button.addEventListener("click", () => showView(button.dataset.view));
map.on("moveend", () => { saveState(); if (view() === "dispatch") loadQueue().catch(showError); });

// --- sign in, language ------------------------------------------------------------------------
function showSession() {
  const s = session();
  byId("signin").textContent = s ? `${s.user} · ${t("sign_out")}` : t("sign_in");
}
byId("signin").addEventListener("click", () => {
  if (session()) { sessionStorage.removeItem("wangge.session"); showSession(); loadQueue(); return; }
  byId("signin-dialog").showModal();
});
byId("signin-form").addEventListener("submit", async (event) => {
  if (event.submitter && event.submitter.value === "cancel") return;
  try {
    const body = new URLSearchParams(new FormData(event.target));
    const token = await json("/api/token", { method: "POST", body });
    sessionStorage.setItem("wangge.session", JSON.stringify({ token: token.access_token, role: token.role, user: token.user }));
    showSession();
    if (view() === "dispatch") loadQueue();
  } catch (error) { showError(error); }
});
byId("lang").addEventListener("click", () => {
  const next = currentLang() === "zh" ? "en" : "zh";
  setLang(next);
  state.lang = next;
  byId("lang").textContent = next === "zh" ? "EN" : "中文";
  showSession();
  drawLegend();
  saveState();
});

// --- start: categories into the filters, restore the filters, show the view ---------------------
json("/api/categories").then((answer) => {
  for (const select of document.querySelectorAll("select[name=category]")) {
    for (const c of answer.categories || answer) select.append(new Option(`${c.code} ${c.name}`, c.code));
  }
  if (state.category) queueForm.category.value = state.category;
  if (state.hcat) hotForm.category.value = state.hcat;
}).catch(() => {}).finally(() => {
  if (state.status) queueForm.status.value = state.status;
  queueForm.overdue.checked = state.overdue === "1";
  if (state.days) hotForm.days.value = state.days;
  if (state.res) hotForm.res.value = state.res;
  if (state.layer) coverageForm.layer.value = state.layer;
  if (state.radius) coverageForm.radius_m.value = state.radius;
  if (state.by) coverageForm.by.value = state.by;
  coverageForm.ev.checked = state.ev === "true";
  if (state.lang === "en") byId("lang").click();
  showSession();
  showView(view()).then(() => { document.body.dataset.mapReady = "true"; });
});
