// The service worker of the phone pages (/m, /m/tasks/…, /a/…, /report, /track/…): it keeps
// the app shell (the pages' code, styles and the vendored map code), the pages and answers
// already seen (network first: fresh when online, kept when not) and the district's map
// tiles (cache first: they change only with a new generation), so a worker without signal
// still opens the task list, a task and its map. Writes never pass through here: they wait
// in the pages' own queue (offline.js). Signing out forgets the kept pages and answers.
const VERSION = "wangge-1";
const SHELL = `${VERSION}-shell`;
const PAGES = `${VERSION}-pages`;
const TILES = `${VERSION}-tiles`;
const SHELL_FILES = [
  "/static/css/phone.css", "/static/favicon.svg", "/static/manifest.webmanifest",
  "/vendor/leaflet/leaflet.css", "/vendor/leaflet/leaflet.js", "/vendor/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js",
  ...["api", "dom", "i18n", "map", "offline", "phone", "report", "track", "tasks", "task", "asset", "inspect"]
    .map((m) => `/static/js/${m}.js`),
];
const PHONE_PAGES = /^\/(m|m\/tasks\/\d{13,20}|report|track\/\d{13,20}|a\/[^/]+)$/;
const KEPT_ANSWERS = /^\/api\/(me\/tasks|vocabulary|categories|session|track\/\d{13,20}|incidents\/\d+|photos\/[0-9a-f]{64})$/;
const TILE_LIMIT = 3000;

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const shell = await caches.open(SHELL);
    await shell.addAll(SHELL_FILES);
    const pages = await caches.open(PAGES);
    await Promise.all(["/m", "/report"].map((p) => fetch(p).then((r) => (r.ok ? pages.put(p, r) : null)).catch(() => null)));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (!name.startsWith(VERSION)) await caches.delete(name);
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  if (event.data === "forget") event.waitUntil(caches.delete(PAGES));
});

function offline(request) {
  if (request.mode === "navigate") {
    const page = "<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width'>"
      + "<title>离线</title><p>离线：此页面尚未保存在手机上。Offline: this page was not kept on the phone.</p><p><a href=/m>我的任务 My tasks</a></p>";
    return new Response(page, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
  }
  const body = JSON.stringify({ error: { code: "offline", message: "offline, and not kept on this phone" } });
  return new Response(body, { status: 503, headers: { "Content-Type": "application/json" } });
}

// Network first: the answer is kept for later; without a network, the kept one.
async function networkFirst(request, ignoreSearch) {
  const cache = await caches.open(PAGES);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(ignoreSearch ? new URL(request.url).pathname : request, response.clone());
    return response;
  } catch {
    return (await cache.match(request, { ignoreSearch })) || offline(request);
  }
}

// The shell: from the cache at once, refreshed behind — for the phone pages only; the desk's
// pages (/cases, the map) always get their code fresh from the server.
async function staleWhileRevalidate(event) {
  const client = event.clientId ? await self.clients.get(event.clientId) : null;
  if (!client || !PHONE_PAGES.test(new URL(client.url).pathname)) return fetch(event.request);
  const cache = await caches.open(SHELL);
  const kept = await cache.match(event.request);
  const fresh = fetch(event.request).then((r) => { if (r.ok) cache.put(event.request, r.clone()); return r; });
  if (kept) {
    event.waitUntil(fresh.catch(() => null));
    return kept;
  }
  return fresh.catch(() => offline(event.request));
}

async function tile(request) {
  const cache = await caches.open(TILES);
  const kept = await cache.match(request);
  if (kept) return kept;
  try {
    const response = await fetch(request);
    if (response.ok) {
      await cache.put(request, response.clone());
      const keys = await cache.keys();
      for (const old of keys.slice(0, Math.max(0, keys.length - TILE_LIMIT))) await cache.delete(old);
    }
    return response;
  } catch {
    return new Response(null, { status: 204 }); // an empty tile: the map draws what it has
  }
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  const path = url.pathname;
  if (path.startsWith("/tiles/")) event.respondWith(tile(request));
  else if (path.startsWith("/static/") || path.startsWith("/vendor/")) event.respondWith(staleWhileRevalidate(event));
  else if (PHONE_PAGES.test(path) || KEPT_ANSWERS.test(path)) event.respondWith(networkFirst(request, path === "/api/me/tasks"));
});
