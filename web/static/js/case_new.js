// Filing a case from a call: category (searchable), description, the location by address
// search, map click, pasted coordinates in any CRS (a lat,lon in the wrong order is recognised
// and offered swapped, never swapped silently) or asset ID; the caller; the open cases of the
// same category nearby, live, with "attach this call" (a repeat call, not a new case).
/* global L */
import { api, json, send } from "./api.js";
import { byId, el } from "./dom.js";
import { errorText, t } from "./i18n.js";
import { COORDINATES, createMap, fitDistricts, setBaseMap, vectorLayer } from "./map.js";
import { config, startPage } from "./page.js";

const form = byId("new-case");
const map = createMap("map", { center: [36.09, 120.37], zoom: 14 });
fitDistricts(map);
setBaseMap(map, config.basemap, { tiandituKey: config.tianditu_key });
for (const name of ["micro_grids", "grids", "communities", "streets"]) vectorLayer(name).addTo(map);
const pin = L.circleMarker([0, 0], { radius: 8, color: "#c0392b", weight: 3, fillOpacity: 0.3 });
let codes = new Set();
let where = null; // { body: what POST /api/incidents gets, lon, lat: WGS84 for the map }
let key = crypto.randomUUID();


function category() {
  const code = form.elements.category.value.trim().slice(0, 5).toUpperCase();
  return codes.has(code) ? code : null;
}

function fail(error) {
  const p = byId("form-error");
  p.textContent = errorText(error);
  p.title = error.message || "";
}

// Show where the case is and the open cases of its category there.
async function place(body, lon, lat, crs = "wgs84", note = "") {
  byId("form-error").textContent = "";
  const params = new URLSearchParams({ lon, lat, crs });
  if (category()) params.set("category", category());
  const answer = await json(`/api/locate?${params}`);
  const [x, y] = answer.point.coordinates;
  where = { body, lon: x, lat: y };
  pin.setLatLng([y, x]).addTo(map);
  map.setView([y, x], Math.max(map.getZoom(), 17));
  const located = byId("located");
  const chain = ["street", "community", "grid", "micro_grid"].filter((k) => answer[k]).map((k) => `${answer[k].name} ${answer[k].code}`);
  located.textContent = answer.inside ? chain.join(" › ") : `${t("outside")} (${answer.distance_m} m)`;
  located.className = answer.inside && !answer.ambiguous && !note ? "" : "flag-amber";
  if (answer.ambiguous) located.append(` · ${t("ambiguous")}`);
  if (note) located.append(` · ${note}`);
  document.body.dataset.located = answer.micro_grid ? answer.micro_grid.code : "outside";
  await drawNearby();
}

// Cases of the category as near and as recent as it counts duplicates (open ones to attach the
// call to; ones closed within its window to say "reported and closed yesterday").
async function drawNearby() {
  const list = byId("nearby");
  if (!category() || !where) { list.replaceChildren(); return; }
  const params = new URLSearchParams({ lon: where.lon, lat: where.lat, category: category() });
  const cases = (await json(`/api/incidents/similar?${params}`)).likely_duplicates;
  list.replaceChildren(...cases.map((c) => {
    const li = el("li");
    const a = el("a", c.number);
    a.href = `/cases/${c.number}`;
    a.target = "_blank";
    li.append(a, ` · ${t(c.status)} · ${c.distance_m} m `);
    if (c.status === "closed") return li; // closed: nothing to attach the call to
    const b = el("button", t("attach"));
    b.type = "button";
    b.dataset.action = "attach";
    b.dataset.case = c.number;
    b.addEventListener("click", () => attach(c));
    li.append(b);
    return li;
  }));
  if (!cases.length) list.append(el("li", t("none_nearby")));
  document.body.dataset.nearby = String(cases.length);
}

function reporter() {
  const r = { consent: form.elements.consent.checked };
  if (form.elements.name.value.trim()) r.name = form.elements.name.value.trim();
  if (form.elements.phone.value.trim()) r.phone = form.elements.phone.value.trim();
  return r;
}

async function attach(c) {
  try {
    const note = form.elements.description.value.trim() || t("act_repeat");
    await send(`/api/incidents/${c.id}/repeats`, "POST", { source: "hotline", note, reporter: reporter() });
    location.href = `/cases/${c.number}`;
  } catch (error) { fail(error); }
}

// --- the four ways of saying where ----------------------------------------------------------
map.on("click", (e) => {
  const lon = e.latlng.lng.toFixed(7);
  const lat = e.latlng.lat.toFixed(7);
  place({ lon: Number(lon), lat: Number(lat), crs: "wgs84" }, lon, lat).catch(fail);
});

let swapped = null;
function coordinates() {
  byId("swap-offer").hidden = true;
  const m = byId("coords").value.trim().match(COORDINATES);
  if (!m) { fail({ code: "invalid_input", field: "lon" }); return; }
  const crs = (m[1] || "wgs84").toLowerCase();
  const [a, b] = [Number(m[2]), Number(m[3])];
  if (Math.abs(a) <= 90 && Math.abs(b) > 90) { // latitude first: offered swapped, never swapped silently
    swapped = { lon: b, lat: a, crs };
    byId("swap-offer").hidden = false;
    byId("use-swapped").textContent = `${t("use_swapped")}: ${b}, ${a}`;
    return;
  }
  place({ lon: a, lat: b, crs }, a, b, crs).catch(fail);
}
byId("coords-go").addEventListener("click", coordinates);
byId("coords").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); coordinates(); } });
byId("use-swapped").addEventListener("click", () => {
  byId("swap-offer").hidden = true;
  const { lon, lat, crs } = swapped;
  byId("coords").value = `${crs === "wgs84" ? "" : `${crs}:`}${lon},${lat}`;
  place({ lon, lat, crs }, lon, lat, crs).catch(fail);
});

async function searchAddress() {
  const q = byId("address").value.trim();
  if (!q) return;
  try {
    const found = await json(`/api/geocode?${new URLSearchParams({ q, limit: 8 })}`);
    const list = byId("address-results");
    list.replaceChildren(...found.results.map((r) => {
      const li = el("li", `${r.address} · ${t(`match_${r.match}`)}${r.community ? ` · ${r.community.name}` : ""}`);
      li.dataset.match = r.match;
      li.tabIndex = 0;
      const pick = () => {
        const [x, y] = r.point.coordinates;
        const sure = !found.ambiguous && ["exact", "house_near"].includes(r.match);
        place({ address: r.address }, x, y, "wgs84", sure ? "" : t("untrusted_match")).catch(fail);
      };
      li.addEventListener("click", pick);
      li.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); pick(); } });
      return li;
    }));
    if (!found.results.length) list.append(el("li", found.outside || t("no_results")));
    else list.firstChild.focus();
  } catch (error) { fail(error); }
}
byId("address-search").addEventListener("click", searchAddress);
byId("address").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); searchAddress(); } });

async function byAsset() {
  const id = byId("asset").value.trim();
  try {
    const asset = await json(`/api/assets/${encodeURIComponent(id)}`);
    const [x, y] = asset.geometry.coordinates;
    await place({ asset_id: id }, x, y);
  } catch (error) { fail(error); }
}
byId("asset-go").addEventListener("click", byAsset);

// A category chosen after the location: look for its open cases there again.
form.elements.category.addEventListener("change", () => {
  if (where) place(where.body, where.lon, where.lat).catch(fail);
});

// --- filing ----------------------------------------------------------------------------------
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const code = category();
  if (!code) { fail({ code: "invalid_input", field: "category" }); return; }
  const report = { source: "hotline", category: code, description: form.elements.description.value.trim(), reporter: reporter(), ...(where ? where.body : {}) };
  try {
    const response = await api("/api/incidents", {
      method: "POST", headers: { "Content-Type": "application/json", "Idempotency-Key": key }, body: JSON.stringify(report),
    });
    const c = await response.json();
    key = crypto.randomUUID();
    location.href = `/cases/${c.number}`;
  } catch (error) { fail(error); }
});

startPage(async () => {
  const { catalogue } = config;
  codes = new Set(catalogue.categories.filter((c) => c.active).map((c) => c.code));
  byId("category-list").replaceChildren(...catalogue.categories.filter((c) => c.active).map((c) => {
    const option = el("option");
    option.value = `${c.code} ${c.name}`;
    return option;
  }));
  document.body.dataset.ready = "true";
});
