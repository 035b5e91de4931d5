// The hotspot view: Gi* classes on H3 cells, a heat layer, month over month by street.
/* global L */
import { json } from "../api.js";
import { byId, el } from "../dom.js";
import { t } from "../i18n.js";
import { textNode } from "../map.js";
import { saveState, state } from "../state.js";

export function hotspotView() {
  const hexLayer = L.geoJSON(null, {
    style: (f) => {
      const c = f.properties.class;
      return { weight: 0.5, color: "#888", fillOpacity: c === "none" ? 0.25 : 0.6, fillColor: c === "hot" ? "#d7301f" : c === "cold" ? "#2b8cbe" : "#fdd49e" };
    },
    onEachFeature: (f, layer) => layer.bindTooltip(textNode(`${f.properties.count} ${t("cases")} · z=${f.properties.z.toFixed(2)} · ${f.properties.class}`)),
  });
  const heat = L.heatLayer([], { radius: 22, blur: 18, maxZoom: 16 });
  const form = byId("hot-filters");

  async function load() {
    const values = new FormData(form);
    const until = new Date();
    const since = new Date(until.getTime() - Number(values.get("days")) * 86400000);
    const day = (d) => d.toISOString().slice(0, 10);
    const params = new URLSearchParams({ res: values.get("res"), since: day(since), until: day(until) });
    if (values.get("category")) params.set("category", values.get("category"));
    state.hcat = values.get("category") || "";
    state.days = values.get("days");
    state.res = values.get("res");
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
    if (values.get("category")) trendParams.set("category", values.get("category"));
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

  function restore() {
    if (state.hcat) form.category.value = state.hcat;
    if (state.days) form.days.value = state.days;
    if (state.res) form.res.value = state.res;
  }
  return { layers: [hexLayer, heat], load, restore };
}
