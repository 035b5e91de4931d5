// The field worker's asset page: the asset, its micro-grid and nearby assets on a map.
import { addAreas, addPoints, createMap } from "./map.js";

const data = JSON.parse(document.getElementById("asset-data").textContent);
const [lon, lat] = data.point;
const map = createMap("map", { center: [lat, lon], zoom: 18 });
if (data.micro_grid) addAreas(map, data.micro_grid);
addPoints(map, data.nearby.map((a) => ({ ...a, label: `${a.id} · ${a.distance_m} m` })), {
  color: "#777",
  radius: 4,
  onClick: (a) => { window.location.href = `/a/${encodeURIComponent(a.id)}`; },
});
addPoints(map, [{ lon, lat, label: data.id }], { color: "#c0392b", radius: 9 });
document.body.dataset.mapReady = "true";
