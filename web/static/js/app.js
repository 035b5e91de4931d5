// The map application: one Leaflet map, three views (views/*.js), state in the URL.
// Every answer from the API is shown as text (textContent), never parsed as HTML.
/* global L */
import { checkSession, json, session } from "./api.js";
import { byId, el, openAsset } from "./dom.js";
import { currentLang, setLang, t } from "./i18n.js";
import { createMap, fitDistricts, setBaseMap, textNode, vectorLayer } from "./map.js";
import { onSessionChange, signInNow, signOut } from "./signin.js";
import { bindMap, initialView, saveState, state, view } from "./state.js";
import { dispatchView, showError } from "./views/dispatch.js";
import { hotspotView } from "./views/hotspots.js";
import { plannerView } from "./views/planner.js";

const config = JSON.parse(byId("config").textContent);
const map = createMap("map", initialView());
bindMap(map);

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
for (const name of ["micro_grids", "grids", "communities", "streets", "districts"]) vectorLayer(name).addTo(map);
vectorLayer("parking", {
  onHover: (p, ll) => showTip(`${p.name} · ${p.spaces ?? "?"} / EV ${p.ev_spaces ?? 0}`, ll),
  onClick: (p) => openAsset(p.id),
}).addTo(map);
vectorLayer("manhole_covers", {
  onHover: (p, ll) => showTip(`${p.id} · ${p.status}`, ll),
  onClick: (p) => openAsset(p.id),
}).addTo(map);

// The district switcher: the districts of the active generation from the OGC API; the first
// view (nothing in the URL) fits all of them, a choice fits one and narrows the analyses to it.
const districts = new Map();
fitDistricts(map, !state.c).then((fc) => {
  for (const f of fc ? fc.features : []) {
    districts.set(f.properties.code, L.geoJSON(f).getBounds());
    const option = el("option", `${f.properties.name} ${f.properties.code}`);
    option.value = f.properties.code;
    byId("district").append(option);
  }
  byId("district").value = districts.has(state.d) ? state.d : "";
});
byId("district").addEventListener("change", (e) => {
  state.d = e.target.value;
  const bounds = districts.get(state.d) || [...districts.values()].reduce((a, b) => a.extend(b), L.latLngBounds([]));
  if (bounds.isValid()) map.fitBounds(bounds);
  saveState();
  views[view()].load().catch(showError);
});

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

// --- views ------------------------------------------------------------------------------------
const views = { dispatch: dispatchView(map), hotspots: hotspotView(), planner: plannerView() };
function showView(name) {
  state.view = name;
  for (const button of document.querySelectorAll("[data-view]")) button.setAttribute("aria-selected", String(button.dataset.view === name));
  for (const panel of document.querySelectorAll("[data-panel]")) panel.hidden = panel.dataset.panel !== name;
  for (const [key, shown] of Object.entries(views)) for (const layer of shown.layers) (key === name ? map.addLayer(layer) : map.removeLayer(layer));
  drawLegend();
  saveState();
  return views[name].load().catch(showError);
}
for (const button of document.querySelectorAll("[data-view]")) button.addEventListener("click", () => showView(button.dataset.view));
map.on("moveend", () => { saveState(); if (view() === "dispatch") views.dispatch.load().catch(showError); });

// --- sign in, language ------------------------------------------------------------------------
function showSession() {
  const s = session();
  byId("signin").textContent = s ? `${s.user} · ${t("sign_out")}` : t("sign_in");
}
byId("signin").addEventListener("click", () => {
  if (session()) signOut();
  else signInNow().catch(() => {});
});
onSessionChange(() => {
  showSession();
  if (view() === "dispatch") views.dispatch.load().catch(showError);
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
    for (const c of answer.categories) select.append(new Option(`${c.code} ${c.name}`, c.code));
  }
}).catch(() => {}).finally(() => {
  for (const shown of Object.values(views)) shown.restore();
  if (state.lang === "en") byId("lang").click();
  checkSession().then(showSession);
  showView(view()).then(() => { document.body.dataset.mapReady = "true"; });
});
