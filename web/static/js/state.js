// The view's state lives in the URL fragment: #view=…&z=…&c=lat,lon&base=…&<filters>.

export const VIEWS = ["dispatch", "hotspots", "planner"];
export const state = Object.fromEntries(new URLSearchParams(location.hash.slice(1)));
export const view = () => (VIEWS.includes(state.view) ? state.view : "dispatch");

let boundMap = null;
export function bindMap(map) {
  boundMap = map;
}

export function saveState() {
  if (boundMap) {
    const c = boundMap.getCenter();
    state.z = String(boundMap.getZoom());
    state.c = `${c.lat.toFixed(5)},${c.lng.toFixed(5)}`;
  }
  history.replaceState(null, "", `#${new URLSearchParams(state)}`);
}

export function initialView() {
  const [lat, lon] = (state.c || "36.095,120.37").split(",").map(Number);
  return { center: [lat, lon], zoom: Number(state.z) || 13 };
}
