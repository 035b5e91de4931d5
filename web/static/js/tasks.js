// The field worker's task list: cases of my unit or grid to handle and to verify, overdue
// first, then nearest. Opening the list also keeps each task's page, its case and the map
// tiles around the tasks on the phone, so the work goes on where there is no signal.
import { json } from "./api.js";
import { byId, el } from "./dom.js";
import { errorText, t } from "./i18n.js";
import { TILE_ZOOMS } from "./map.js";
import { fieldSession, signOutPhone, startPhone, statusName } from "./phone.js";

const KEEP = 40; // tasks kept for offline use
let tasks = [];

function here() {
  return new Promise((resolve) => {
    if (!navigator.geolocation) { resolve(null); return; }
    navigator.geolocation.getCurrentPosition((p) => resolve({ lon: p.coords.longitude, lat: p.coords.latitude }),
      () => resolve(null), { enableHighAccuracy: false, timeout: 5000, maximumAge: 60000 });
  });
}

function timeLeft(task) {
  const hours = (new Date(task.deadline) - Date.now()) / 3.6e6;
  if (hours < 0) return `${t("overdue_by")} ${(-hours).toFixed(1)} ${t("hours")}`;
  return `${t("time_left")} ${hours.toFixed(1)} ${t("hours")}`;
}

function draw() {
  byId("tasks").replaceChildren(...tasks.map((task) => {
    const li = el("li", "", `task ${task.overdue || ""}`);
    const a = el("a");
    a.href = `/m/tasks/${task.number}`;
    a.append(el("strong", `${task.task === "verify" ? t("to_verify") : t("to_handle")} · ${task.category_name}`),
      el("span", `${statusName(task.status)} · ${timeLeft(task)}`),
      el("span", task.distance_m === null ? task.number : `${task.number} · ${Math.round(task.distance_m)} ${t("metres")}`, "note"));
    li.append(a);
    return li;
  }));
  byId("empty").hidden = tasks.length > 0;
  document.body.dataset.tasks = String(tasks.length);
}

// Tiles of the area the tasks are in (the district's own layers), for the map offline.
function tileUrls(points) {
  if (!points.length) return [];
  const lons = points.map((p) => p[0]);
  const lats = points.map((p) => p[1]);
  const tile = (lon, lat, z) => {
    const n = 2 ** z;
    const r = (lat * Math.PI) / 180;
    return [Math.floor(((lon + 180) / 360) * n), Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n)];
  };
  const urls = [];
  for (let z = 14; z <= 17; z += 1) {
    const [x0, y1] = tile(Math.min(...lons) - 0.002, Math.min(...lats) - 0.002, z);
    const [x1, y0] = tile(Math.max(...lons) + 0.002, Math.max(...lats) + 0.002, z);
    for (const [name, [from]] of Object.entries(TILE_ZOOMS)) {
      if (z < from || !["streets", "communities", "grids", "micro_grids"].includes(name)) continue;
      for (let x = x0; x <= x1; x += 1) for (let y = y0; y <= y1; y += 1) urls.push(`/tiles/${name}/${z}/${x}/${y}.mvt`);
    }
  }
  return urls.slice(0, 400);
}

async function keepForOffline() {
  const kept = tasks.slice(0, KEEP);
  const urls = kept.flatMap((task) => [`/m/tasks/${task.number}`, `/api/incidents/${task.id}`]);
  urls.push(...tileUrls(kept.filter((task) => task.point).map((task) => task.point.coordinates)));
  let done = 0;
  for (let i = 0; i < urls.length; i += 6) { // a few at a time: the list stays responsive
    await Promise.all(urls.slice(i, i + 6).map((u) => fetch(u, { credentials: "same-origin" }).catch(() => null)));
    done += Math.min(6, urls.length - i);
  }
  document.body.dataset.kept = String(done);
}

async function load() {
  byId("list-message").textContent = "";
  const at = await here();
  byId("where").textContent = at ? t("nearest_first") : t("no_position");
  try {
    const params = at ? `?${new URLSearchParams(at)}` : "";
    tasks = (await json(`/api/me/tasks${params}`)).tasks;
    draw();
    document.body.dataset.ready = "true";
    if (navigator.onLine) keepForOffline();
  } catch (error) {
    byId("list-message").textContent = errorText(error);
    document.body.dataset.ready = "true";
  }
}

await startPhone(draw);
const s = await fieldSession();
byId("list").hidden = false;
byId("who").textContent = `${s.user}${s.unit ? ` · ${s.unit}` : ""}`;
byId("refresh").addEventListener("click", load);
byId("signout").addEventListener("click", signOutPhone);
await load();
