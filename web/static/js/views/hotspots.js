// The hotspot view: Gi* classes on H3 cells, a heat layer, month over month by street.
/* global L */
import { json } from "../api.js";
import { byId, el } from "../dom.js";
import { t } from "../i18n.js";
import { textNode } from "../map.js";
import { saveState, state } from "../state.js";
import { showError } from "./dispatch.js";

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
    if (state.d) params.set("area", state.d);
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
    await loadTrend();
    document.body.dataset.hotspots = String(fc.features.length);
  }

  // Month over month: the months that have cases in a picker, by default the last complete one.
  const monthForm = byId("mom-filters");
  let months = null;
  async function loadTrend() {
    if (months === null) {
      months = await json("/api/analytics/months");
      const picker = monthForm.month;
      for (const m of [...months.months].reverse()) {
        picker.append(new Option(m.complete ? m.month : `${m.month} (${t("partial")})`, m.month));
      }
      picker.value = state.momMonth && months.months.some((m) => m.month === state.momMonth) ? state.momMonth : months.default || "";
    }
    const body = byId("mom").tBodies[0];
    body.replaceChildren();
    if (!monthForm.month.value) {
      byId("mom-caption").textContent = t("no_months");
      return;
    }
    const trendParams = new URLSearchParams({ by: "street", month: monthForm.month.value });
    const category = new FormData(form).get("category");
    if (category) trendParams.set("category", category);
    if (state.d) trendParams.set("area", state.d);
    const trend = await json(`/api/analytics/trends?${trendParams}`);
    byId("mom-caption").textContent = `${trend.month} ${t("versus")} ${trend.previous_month}${trend.partial ? ` · ${t("partial")}` : ""}`;
    for (const r of trend.results.filter((r) => r.street)) {
      const tr = el("tr");
      const pct = r.change_pct === null ? "–" : `${r.change_pct > 0 ? "+" : ""}${r.change_pct}`;
      tr.append(el("td", r.name), el("td", r.count), el("td", r.previous), el("td", pct, r.change > 0 ? "up" : r.change < 0 ? "down" : ""));
      body.append(tr);
    }
    document.body.dataset.momMonth = trend.month;
  }
  monthForm.addEventListener("change", () => {
    state.momMonth = monthForm.month.value;
    saveState();
    loadTrend().catch(showError);
  });

  function restore() {
    if (state.hcat) form.category.value = state.hcat;
    if (state.days) form.days.value = state.days;
    if (state.res) form.res.value = state.res;
  }
  return { layers: [hexLayer, heat], load, restore };
}
