// Talking to the API: the page session (an HttpOnly cookie; its CSRF token kept here), JSON
// requests, errors in the interface's language, and the platform's vocabulary.
//
// A request that meets an ended session opens the sign-in dialog (signin.js) and, once signed
// in, is sent again: the page goes on with what it was doing, it never goes blank.

const KEY = "wangge.session";

export function session() {
  try { return JSON.parse(sessionStorage.getItem(KEY)); } catch { return null; }
}

export function remember(info) {
  sessionStorage.setItem(KEY, JSON.stringify({ user: info.user, role: info.role, unit: info.unit, csrf: info.csrf_token }));
}

export function forget() {
  sessionStorage.removeItem(KEY);
}

// An error of the API: its code and field travel with it, so pages say it in their language.
export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || `http_${status}`;
    this.field = error.field || null;
  }
}

let askSignIn = null; // set by signin.js: () => Promise that resolves once signed in
export function onSignInNeeded(handler) {
  askSignIn = handler;
}

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

export async function api(path, options = {}, retried = false) {
  const method = (options.method || "GET").toUpperCase();
  const headers = { ...(options.headers || {}) };
  if (!SAFE.has(method)) Object.assign(headers, authHeaders());
  const response = await fetch(path, { ...options, headers, credentials: "same-origin" });
  if (response.ok) return response;
  let body = null;
  try { body = await response.json(); } catch { /* not JSON */ }
  const error = new ApiError(response.status, body);
  if (response.status === 401 && !retried && askSignIn && path !== "/api/session") {
    forget();
    await askSignIn(error.code === "session_expired");
    return api(path, options, true);
  }
  throw error;
}

export const json = async (path, options) => (await api(path, options)).json();

// The page's session as the server knows it (a cookie may outlive the tab's memory, or end);
// offline, the one this tab had.
export async function checkSession() {
  const info = await json("/api/session").catch((error) => (error instanceof ApiError ? { signed_in: false } : null));
  if (info === null) return session(); // no connection: the session this tab had
  if (info.signed_in) remember(info);
  else forget();
  return session();
}

// Sign out of this browser: the session ends and its cookie is cleared (an ended one too).
export async function endSession() {
  await fetch("/api/session", { method: "DELETE", credentials: "same-origin", headers: authHeaders() }).catch(() => {});
  forget();
}

// The session's CSRF token for a write (cookie sessions need it; the public has none).
export function authHeaders() {
  const s = session();
  return s && s.csrf ? { "X-CSRF-Token": s.csrf } : {};
}

export function send(path, method, body) {
  return json(path, { method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
}

// What the server put in the page for its first paint (the case pages: vocabulary, catalogue, session).
export function pageConfig() {
  const node = document.getElementById("config");
  return node ? JSON.parse(node.textContent) : {};
}

// Statuses, roles and levels as the server defines them (layers/db/vocabulary.py): from the page,
// else fetched once.
let words = null;
export function vocabulary() {
  const embedded = pageConfig().vocabulary;
  words = words || (embedded ? Promise.resolve(embedded) : json("/api/vocabulary"));
  return words;
}
