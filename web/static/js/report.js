// 随手拍: a resident reports a problem from a phone — the spot (GPS, a pin to drag, an address),
// the kind in plain words, one to three photos, a few words, a way to be told. Reports of the
// same kind already open nearby come first, to follow instead of filing again. Without a
// connection the report waits on the phone and goes when it can.
/* global L */
import { ApiError, json } from "./api.js";
import { byId, el } from "./dom.js";
import { currentLang, errorText, t } from "./i18n.js";
import { createMap, fitDistricts, setBaseMap, vectorLayer } from "./map.js";
import { onSent, submit } from "./offline.js";
import { beijing, config, deviceId, photoPicker, startPhone, statusName } from "./phone.js";

const form = byId("report");
const message = byId("message");
const MINE = "wangge.my_reports";
let spot = null; // { lon, lat } in WGS84: the pin's place
let kind = null;

const map = createMap("map", { center: [36.0875, 120.365], zoom: 14 });
fitDistricts(map);
setBaseMap(map, config.basemap, { tiandituKey: config.tianditu_key });
for (const name of ["streets", "communities"]) vectorLayer(name).addTo(map);
const pin = L.marker(map.getCenter(), { draggable: true, icon: L.divIcon({ className: "pin", iconSize: [28, 28], iconAnchor: [14, 28] }) });

async function place(lon, lat, how) {
  spot = { lon: Number(lon.toFixed(7)), lat: Number(lat.toFixed(7)) };
  pin.setLatLng([lat, lon]);
  if (!map.hasLayer(pin)) pin.addTo(map);
  document.body.dataset.spot = `${spot.lon},${spot.lat}`;
  byId("spot").textContent = `${t(how)} · ${spot.lat.toFixed(5)}, ${spot.lon.toFixed(5)}`;
  try {
    const found = await json(`/api/locate?${new URLSearchParams({ lon: spot.lon, lat: spot.lat })}`);
    byId("spot").textContent = found.inside
      ? `${t(how)} · ${found.street.name} ${found.community.name || ""}`
      : `${t(how)} · ${t("outside_platform")}`;
  } catch { /* offline: the coordinates say enough */ }
  showSimilar();
}

map.on("click", (e) => place(e.latlng.lng, e.latlng.lat, "by_pin"));
pin.on("dragend", () => { const p = pin.getLatLng(); place(p.lng, p.lat, "by_pin"); });

byId("gps").addEventListener("click", () => {
  if (!navigator.geolocation) { message.textContent = t("no_gps"); return; }
  byId("spot").textContent = t("finding_you");
  navigator.geolocation.getCurrentPosition(
    (p) => { // the browser's position is WGS84 (W3C Geolocation)
      map.setView([p.coords.latitude, p.coords.longitude], 18);
      place(p.coords.longitude, p.coords.latitude, "by_gps");
    },
    () => { byId("spot").textContent = t("no_gps"); },
    { enableHighAccuracy: true, timeout: 15000 },
  );
});

byId("address-go").addEventListener("click", async () => {
  const q = byId("address").value.trim();
  const list = byId("address-results");
  if (!q) return;
  try {
    const found = await json(`/api/geocode?${new URLSearchParams({ q, limit: 5 })}`);
    list.replaceChildren(...found.results.map((r) => {
      const li = el("li");
      const b = el("button", r.address, "quiet");
      b.type = "button";
      b.addEventListener("click", () => {
        list.replaceChildren();
        map.setView([r.lat, r.lon], 18);
        place(r.lon, r.lat, "by_address");
      });
      li.append(b);
      return li;
    }));
    if (!found.results.length) list.replaceChildren(el("li", t("no_results")));
  } catch (error) { message.textContent = errorText(error); }
});

function drawKinds() {
  byId("kinds").replaceChildren(...config.choices.map((c) => {
    const b = el("button", "", "kind");
    b.type = "button";
    b.setAttribute("role", "radio");
    b.setAttribute("aria-checked", String(kind === c.code));
    b.dataset.code = c.code;
    b.append(el("span", c.icon, "icon"), el("span", c[currentLang()]));
    b.addEventListener("click", () => { kind = c.code; drawKinds(); showSimilar(); });
    return b;
  }));
}

// Open reports of this kind near the pin: follow one instead of filing the same again.
async function showSimilar() {
  const box = byId("similar");
  if (!spot || !kind) { box.hidden = true; return; }
  let found = [];
  try {
    found = (await json(`/api/incidents/similar?${new URLSearchParams({ ...spot, category: kind })}`)).likely_duplicates;
  } catch { /* offline: nothing to show */ }
  box.hidden = !found.length;
  byId("similar-list").replaceChildren(...found.map((c) => {
    const li = el("li", `${statusName(c.status)} · ${beijing(c.received_at)} · ${t("about")} ${c.distance_m} ${t("metres")}`);
    const b = el("button", c.status === "closed" ? t("see_it") : t("me_too"), "quiet");
    b.type = "button";
    if (c.status === "closed") b.addEventListener("click", () => { window.location.href = `/track/${c.number}`; });
    else b.addEventListener("click", () => follow(c));
    li.append(" ", b);
    return li;
  }));
  document.body.dataset.similar = String(found.length);
}

function reporter() {
  const f = form.elements;
  const phone = f.phone.value.replace(/\s/g, "");
  return { name: f.name.value.trim() || null, phone: phone || null, consent: f.consent.checked, notify: f.notify.checked && Boolean(phone) };
}

async function follow(c) {
  message.textContent = "";
  try {
    const result = await submit({ url: `/api/incidents/${c.id}/followers`, json: { source: "photo_report", reporter: reporter() },
      label: `${t("label_follow")} ${c.number}`, device: deviceId() });
    finished(c.number, Boolean(result.queued), true);
  } catch (error) { showError(error); }
}

function showError(error) {
  message.textContent = errorText(error);
  if (error instanceof Error) message.title = error.message;
}

const photos = photoPicker(byId("photo"), byId("photos"), 3);

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  message.textContent = "";
  const chosen = photos.photos();
  if (!kind) { message.textContent = t("choose_kind"); return; }
  if (!spot && !chosen.length) { message.textContent = t("need_spot"); return; }
  const r = reporter();
  if (r.phone && !/^\+?[0-9][0-9-]{4,19}$/.test(r.phone)) { message.textContent = t("bad_phone"); return; }
  const body = { source: "photo_report", category: kind, description: form.elements.description.value.trim(), reporter: r };
  if (spot) Object.assign(body, spot, { crs: "wgs84" }); // else the photos' own GPS places it
  byId("send").disabled = true;
  try {
    const result = await submit({ url: "/api/incidents", json: body, photos: chosen, label: t("label_report"), device: deviceId() });
    if (result.queued) finished(null, true);
    else finished(result.sent.number, false);
  } catch (error) {
    showError(error instanceof ApiError || error.code ? error : new Error(String(error)));
  } finally { byId("send").disabled = false; }
});

function remember(number) {
  const mine = JSON.parse(localStorage.getItem(MINE) || "[]").filter((n) => n !== number);
  localStorage.setItem(MINE, JSON.stringify([number, ...mine].slice(0, 20)));
  drawMine();
}

function finished(number, queued, followed = false) {
  form.hidden = true;
  byId("done").hidden = false;
  byId("number").textContent = number || t("when_online");
  const link = byId("track-link");
  link.hidden = !number;
  if (number) { link.href = `/track/${number}`; remember(number); }
  byId("done").querySelector("h2").textContent = queued ? t("kept_on_phone") : followed ? t("following_now") : t("thanks");
  document.body.dataset.done = number || "queued";
  photos.clear();
}

byId("again").addEventListener("click", () => {
  form.hidden = false;
  byId("done").hidden = true;
  form.reset();
  kind = null;
  drawKinds();
  showSimilar();
});

function drawMine() {
  const mine = JSON.parse(localStorage.getItem(MINE) || "[]");
  byId("mine").hidden = !mine.length;
  byId("mine-list").replaceChildren(...mine.map((n) => {
    const li = el("li");
    const a = el("a", n);
    a.href = `/track/${n}`;
    li.append(a);
    return li;
  }));
}

// A report kept offline gets its number when it is sent: it joins "my reports".
onSent((action, answer) => { if (answer && answer.number) remember(answer.number); });

drawKinds();
drawMine();
await startPhone(() => { drawKinds(); showSimilar(); });
document.body.dataset.ready = "true";
