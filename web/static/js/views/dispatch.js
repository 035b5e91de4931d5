// The dispatcher's view: the locate panel, the search box and the case queue.
/* global L */
import { json, send, session, vocabulary } from "../api.js";
import { assetLink, byId, el, openAsset } from "../dom.js";
import { currentLang, errorText, t } from "../i18n.js";
import { COORDINATES, textNode } from "../map.js";
import { saveState, state } from "../state.js";

const results = byId("results");

export function showError(error) {
  results.hidden = false;
  const p = el("p", errorText(error), "flag-red");
  p.title = error.message;
  results.replaceChildren(p);
}

export function dispatchView(map) {
  const pin = L.circleMarker([0, 0], { radius: 7, color: "#c0392b", weight: 3, fillOpacity: 0.2 });
  let microOutline = null;

  // `chosen`: the geocoder's result the point came from, shown with how well it matched.
  async function locate(lon, lat, crs = "wgs84", chosen = null) {
    const params = new URLSearchParams({ lon, lat, crs });
    if (state.category) params.set("category", state.category);
    else params.set("nearby", "true");
    const answer = await json(`/api/locate?${params}`, { priority: "high" }); // ahead of queued tiles
    const [x, y] = answer.point.coordinates;
    pin.setLatLng([y, x]).addTo(map);
    results.hidden = false;
    results.replaceChildren(el("h2", t("located")));
    if (chosen) {
      const p = el("p", `${t("chosen_address")}: ${chosen.address} · ${t(`match_${chosen.match}`)}`, chosen.match === "exact" ? "" : "flag-amber");
      p.id = "chosen-address";
      results.append(p);
    }
    const chain = el("ul", null, "chain");
    if (!answer.inside) chain.append(el("li", `${t("outside")} (${answer.distance_m} m)`, "flag-amber"));
    const edge = el("li", `${t("edge_distance")}: ${answer.boundary_distance_m} m${answer.ambiguous ? ` · ${t("ambiguous")}` : ""}`, answer.ambiguous ? "flag-amber" : "");
    edge.id = "located-edge";
    edge.dataset.ambiguous = String(answer.ambiguous);
    chain.append(edge);
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

  // --- search: coordinates in any CRS, asset IDs, area codes, addresses ----------------------
  byId("search").addEventListener("submit", async (event) => {
    event.preventDefault();
    const q = byId("q").value.trim();
    if (!q) return;
    try {
      const coords = q.match(COORDINATES);
      if (coords) {
        const answer = await locate(coords[2], coords[3], (coords[1] || "wgs84").toLowerCase());
        const [x, y] = answer.point.coordinates;
        map.setView([y, x], Math.max(map.getZoom(), 16));
      } else if (/^\d{16}$/.test(q)) {
        const asset = await json(`/api/assets/${q}`);
        const [x, y] = asset.geometry.coordinates;
        map.setView([y, x], 18);
        await locate(x, y);
        results.prepend(el("h2", `${asset.properties.subclass_name || asset.properties.kind} ${asset.id}`), assetLink(asset.id));
      } else if (/^\d{9}$|^\d{12}$|^\d{15}$|^\d{18}$/.test(q)) {
        const { levels } = await vocabulary();
        const level = levels.find((l) => l.code_length === q.length);
        const collection = { street: "streets", community: "communities", grid: "grids", micro_grid: "micro_grids" }[level.level];
        const area = await json(`/collections/${collection}/items/${q}`);
        map.fitBounds(L.geoJSON(area).getBounds());
        results.hidden = false;
        results.replaceChildren(el("h2", `${area.properties.name} ${q}`));
      } else {
        const found = await json(`/api/geocode?${new URLSearchParams({ q, limit: 8 })}`, { priority: "high" });
        results.hidden = false;
        results.replaceChildren(el("h2", q));
        if (found.outside) {
          const where = found.outside_district ? `${found.parsed.road || q} ${t("belongs_to")} ${found.outside_district}` : found.outside;
          results.append(el("p", `${t("outside_district")}: ${where}`, "flag-red"));
        }
        else if (!found.results.length) results.append(el("p", t("no_results")));
        if (found.ambiguous) results.append(el("p", t("ambiguous_place"), "flag-amber"));
        else if (found.results.length && !found.trusted) results.append(el("p", t("untrusted_match"), "flag-amber"));
        const list = el("ol", null, "list");
        for (const r of found.results) {
          const where = r.place ? ` · ${r.road}${r.house_number ? `${r.house_number}号` : ""}${r.place.generated ? ` · ${t("generated_name")}` : ""}` : "";
          const li = el("li", `${r.address}${where} · ${t(`match_${r.match}`)}${r.community ? ` · ${r.community.name}` : ""}`);
          li.dataset.match = r.match;
          li.tabIndex = 0;
          const choose = () => {
            // the locate request goes first: started after the view change it would queue
            // behind that view's tile requests (seconds on a cold cache)
            const [x, y] = r.point.coordinates;
            performance.mark("chosen");
            const located = locate(x, y, "wgs84", r).catch(showError);
            // the panel is painted first, then the map moves (its tiles would hold the frame back)
            located.then(() => requestAnimationFrame(() => setTimeout(() => {
              performance.measure("chosen-to-panel", "chosen"); // for `make bench`
              map.setView([y, x], 18);
            })));
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

  // --- the case queue ------------------------------------------------------------------------
  const caseLayer = L.layerGroup();
  const queueForm = byId("queue-filters");
  async function load() {
    const words = await vocabulary();
    const open = words.statuses.filter((s) => s.open).map((s) => s.status).join(",");
    const statusName = (status) => {
      const word = words.statuses.find((s) => s.status === status);
      return word ? word[currentLang()] : status;
    };
    const form = new FormData(queueForm);
    const params = new URLSearchParams({ f: "geojson", limit: 200, sort: "deadline", status: form.get("status") || open });
    const b = map.getBounds();
    params.set("bbox", [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(5)).join(","));
    if (form.get("category")) params.set("category", form.get("category"));
    if (form.get("overdue")) params.set("overdue", "true");
    state.status = form.get("status") || "";
    state.category = form.get("category") || "";
    state.overdue = form.get("overdue") ? "1" : "";
    saveState();
    const fc = await json(`/api/incidents?${params}`);
    byId("queue-count").textContent = `${fc.numberReturned} ${t("of")} ${fc.numberMatched} · ${t("in_view")}`;
    caseLayer.clearLayers();
    const list = byId("queue");
    list.replaceChildren();
    const s = session();
    const canDispatch = s && words.dispatchers.includes(s.role);
    for (const f of fc.features) {
      const p = f.properties;
      const [x, y] = f.geometry ? f.geometry.coordinates : [null, null];
      const flag = p.overdue ? ` ⚑${t(p.overdue)}` : "";
      const li = el("li", null, p.overdue ? `flag-${p.overdue}` : "");
      const link = el("a", p.number);
      link.href = `/cases/${p.number}`;
      li.append(link, ` · ${p.category_name} · ${statusName(p.status)}${flag}`);
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
            await send(`/api/incidents/${p.id}/transitions`, "POST", { to: "dispatched", note: "map" });
            load();
          } catch (error) { showError(error); }
        });
        li.append(" ", button);
      }
      list.append(li);
    }
    document.body.dataset.queue = String(fc.features.length);
  }
  queueForm.addEventListener("change", () => load().catch(showError));

  function restore() {
    if (state.status) queueForm.status.value = state.status;
    queueForm.overdue.checked = state.overdue === "1";
    if (state.category) queueForm.category.value = state.category;
  }
  return { layers: [caseLayer], load, restore };
}
