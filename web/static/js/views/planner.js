// The planner's view: coverage of micro-grids and households by a layer's assets.
/* global L */
import { json } from "../api.js";
import { byId, el } from "../dom.js";
import { t } from "../i18n.js";
import { textNode } from "../map.js";
import { saveState, state } from "../state.js";

export function plannerView() {
  const uncovered = L.geoJSON(null, {
    style: { color: "#c0392b", weight: 1, fillColor: "#e74c3c", fillOpacity: 0.45 },
    onEachFeature: (f, layer) => layer.bindTooltip(textNode(`${f.properties.name} · ${f.properties.distance_m ?? "–"} m`)),
  });
  const form = byId("coverage-filters");

  async function load() {
    const values = new FormData(form);
    const params = new URLSearchParams({ layer: values.get("layer"), radius_m: values.get("radius_m"), by: values.get("by") });
    if (values.get("ev")) params.set("ev", "true");
    Object.assign(state, { layer: params.get("layer"), radius: params.get("radius_m"), by: params.get("by"), ev: params.get("ev") || "" });
    saveState();
    byId("coverage-csv").href = `/api/analytics/coverage?${params}&f=csv`;
    const beyond = new URLSearchParams(params);
    beyond.delete("by");
    for (const f of ["csv", "xlsx", "geojson"]) byId(`uncovered-${f}`).href = `/api/analytics/coverage/uncovered?${beyond}&f=${f}`;
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

  function restore() {
    if (state.layer) form.layer.value = state.layer;
    if (state.radius) form.radius_m.value = state.radius;
    if (state.by) form.by.value = state.by;
    form.ev.checked = state.ev === "true";
  }
  return { layers: [uncovered], load, restore };
}
