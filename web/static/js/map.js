// Shared map code of wangge's pages: the map application (/) and the asset page (/a/{id}).
// No base map by default: the district's own layers carry the map, so it works offline.
/* global L */

// Leaflet.VectorGrid 1.3 calls L.DomEvent.fakeStop, which Leaflet 1.8 removed.
if (!L.DomEvent.fakeStop) L.DomEvent.fakeStop = L.DomEvent.stopPropagation;

export function createMap(element, { center = [36.1, 120.36], zoom = 16 } = {}) {
  // Zoom limits set here: otherwise Leaflet derives them from the layers' own ranges (micro-grids
  // from z15) and jumps the view when such a layer is added.
  const map = L.map(element, { zoomControl: true, attributionControl: true, minZoom: 10, maxZoom: 20 }).setView(center, zoom);
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
    if (p.label) marker.bindTooltip(textNode(p.label));
    if (onClick) marker.on("click", () => onClick(p));
    marker.addTo(layer);
  }
  return layer;
}

// Coordinates as people type or paste them: "[crs:]x,y" (also "，" and blanks); x and y as given.
export const COORDINATES = /^(?:([a-z0-9:]+)\s*[:：]\s*)?(-?\d+(?:\.\d+)?)\s*[,，\s]\s*(-?\d+(?:\.\d+)?)$/i;

export function textNode(text) {
  const span = document.createElement("span");
  span.textContent = text;
  return span;
}

// --- base maps -------------------------------------------------------------------------------

// WGS84 → GCJ-02 (the published forward formula; the server holds the exact inverse).
const A = 6378245.0;
const EE = 0.006693421622965943; // Krasovsky 1940 e² as a double
function delta(lon, lat) {
  const x = lon - 105.0;
  const y = lat - 35.0;
  let dLat = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  dLat += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3;
  dLat += ((20 * Math.sin(y * Math.PI) + 40 * Math.sin((y / 3) * Math.PI)) * 2) / 3;
  dLat += ((160 * Math.sin((y / 12) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30)) * 2) / 3;
  let dLon = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  dLon += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3;
  dLon += ((20 * Math.sin(x * Math.PI) + 40 * Math.sin((x / 3) * Math.PI)) * 2) / 3;
  dLon += ((150 * Math.sin((x / 12) * Math.PI) + 300 * Math.sin((x / 30) * Math.PI)) * 2) / 3;
  const radLat = (lat / 180) * Math.PI;
  const magic = 1 - EE * Math.sin(radLat) ** 2;
  const sqrtMagic = Math.sqrt(magic);
  return [
    (dLon * 180) / ((A / sqrtMagic) * Math.cos(radLat) * Math.PI),
    (dLat * 180) / (((A * (1 - EE)) / (magic * sqrtMagic)) * Math.PI),
  ];
}
export function wgs84ToGcj02(lon, lat) {
  const [dx, dy] = delta(lon, lat);
  return [lon + dx, lat + dy];
}

// Amap's tiles are drawn in GCJ-02. The overlays (WGS84) stay put and the base map's pane is
// moved by the GCJ-02 offset at the view's centre; the offset varies by well under a metre
// across a district-sized view, so everything sits right on the Amap streets.
function shiftPane(map, pane) {
  const move = () => {
    const c = map.getCenter();
    const [gx, gy] = wgs84ToGcj02(c.lng, c.lat);
    const here = map.project(c);
    const there = map.project(L.latLng(gy, gx));
    L.DomUtil.setPosition(pane, here.subtract(there).round());
  };
  map.on("move zoomend viewreset", move);
  move();
  return () => map.off("move zoomend viewreset", move);
}

export function setBaseMap(map, name, { tiandituKey = "" } = {}) {
  if (map._wanggeBase) {
    map.removeLayer(map._wanggeBase.layer);
    if (map._wanggeBase.unshift) map._wanggeBase.unshift();
    map._wanggeBase = null;
  }
  if (!map.getPane("base")) map.createPane("base").style.zIndex = 150;
  const pane = map.getPane("base");
  L.DomUtil.setPosition(pane, L.point(0, 0));
  let layer = null;
  if (name === "osm") {
    layer = L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
      pane: "base", maxZoom: 19, attribution: "© OpenStreetMap contributors",
    });
  } else if (name === "tianditu" && tiandituKey) {
    layer = L.layerGroup([
      L.tileLayer(`https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=${encodeURIComponent(tiandituKey)}`, {
        pane: "base", subdomains: "01234567", maxZoom: 18, attribution: "天地图",
      }),
      L.tileLayer(`https://t{s}.tianditu.gov.cn/cva_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=cva&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=${encodeURIComponent(tiandituKey)}`, {
        pane: "base", subdomains: "01234567", maxZoom: 18,
      }),
    ]);
  } else if (name === "amap") {
    layer = L.tileLayer("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}", {
      pane: "base", subdomains: "1234", maxZoom: 18, attribution: "© 高德地图 (GCJ-02, shifted)",
    });
  }
  if (!layer) return "none";
  layer.addTo(map);
  map._wanggeBase = { layer, unshift: name === "amap" ? shiftPane(map, pane) : null };
  return name;
}

// --- vector tiles ----------------------------------------------------------------------------

const STYLES = {
  districts: { color: "#0b2545", weight: 4, fill: false },
  streets: { color: "#1f3b63", weight: 2.5, fill: false },
  communities: { color: "#3b6ea8", weight: 1.5, fill: false, dashArray: "4 3" },
  grids: { color: "#5f8fc4", weight: 1, fill: false },
  micro_grids: { color: "#9bb7d6", weight: 0.6, fill: true, fillColor: "#e9f0f8", fillOpacity: 0.25 },
  manhole_covers: (p) => ({
    radius: 3, weight: 1, fill: true, fillOpacity: 0.9,
    color: p.status === "normal" ? "#607d8b" : "#c0392b", fillColor: p.status === "normal" ? "#90a4ae" : "#e74c3c",
  }),
  parking: (p) => ({
    weight: 1.5, fill: true, fillOpacity: 0.5, radius: 6, color: "#1b7f3b",
    fillColor: p.status === "operating" ? (p.ev_spaces > 0 ? "#27ae60" : "#8bc34a") : "#f1c40f",
  }),
};
export const TILE_ZOOMS = {
  districts: [0, 22], streets: [0, 22], communities: [13, 22], grids: [14, 22], micro_grids: [15, 22],
  manhole_covers: [16, 22], parking: [12, 22],
};

export function vectorLayer(name, { onClick, onHover } = {}) {
  const [minZoom, maxZoom] = TILE_ZOOMS[name];
  const style = STYLES[name];
  const interactive = Boolean(onClick || onHover);
  const layer = L.vectorGrid.protobuf(`/tiles/${name}/{z}/{x}/{y}.mvt`, {
    // An interactive canvas tile takes every click, so the map would never hear one: interactive
    // layers are SVG (only their shapes take clicks), the dense area layers canvas.
    rendererFactory: interactive ? L.svg.tile : L.canvas.tile,
    vectorTileLayerStyles: { [name]: style },
    interactive,
    minZoom, maxZoom, maxNativeZoom: 18,
    getFeatureId: (f) => f.properties.code || f.properties.id,
  });
  if (onClick) layer.on("click", (e) => onClick(e.layer.properties, e.latlng));
  if (onHover) layer.on("mouseover", (e) => onHover(e.layer.properties, e.latlng));
  return layer;
}

// The districts served (the OGC collection): the map is fitted to them unless it moved meanwhile
// (a page that placed it, or a user) or `fit` is false; resolves to the features (null offline).
export function fitDistricts(map, fit = true) {
  const start = map.getCenter();
  return fetch("/collections/districts/items?limit=100", { headers: { Accept: "application/geo+json" } })
    .then((r) => (r.ok ? r.json() : null))
    .then((fc) => {
      if (fit && fc && fc.features.length && map.getCenter().equals(start)) map.fitBounds(L.geoJSON(fc).getBounds());
      return fc;
    })
    .catch(() => null);
}
