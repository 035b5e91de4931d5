// Shared map code of wangge's pages (asset page now, the dispatcher map later).
// No base map by default: the district's own layers carry the map, so it works offline.
/* global L */

export function createMap(element, { center = [36.1, 120.36], zoom = 16 } = {}) {
  const map = L.map(element, { zoomControl: true, attributionControl: true }).setView(center, zoom);
  map.attributionControl.setPrefix("wangge · 示例数据为生成数据 (generated demo data)");
  L.control.scale({ imperial: false }).addTo(map);
  return map;
}

export function addAreas(map, geojson, style = {}) {
  return L.geoJSON(geojson, {
    style: { color: "#3b6ea8", weight: 2, fillColor: "#3b6ea8", fillOpacity: 0.06, ...style },
  }).addTo(map);
}

// Points as small circles; the label is set as text, never parsed as HTML.
export function addPoints(map, points, { color = "#555", radius = 5, onClick } = {}) {
  const layer = L.layerGroup().addTo(map);
  for (const p of points) {
    const marker = L.circleMarker([p.lat, p.lon], { radius, color, weight: 2, fillOpacity: 0.8 });
    if (p.label) {
      const tip = document.createElement("span");
      tip.textContent = p.label;
      marker.bindTooltip(tip);
    }
    if (onClick) marker.on("click", () => onClick(p));
    marker.addTo(layer);
  }
  return layer;
}
