// Talking to the API: the signed-in session, JSON requests, the platform's vocabulary.

export function session() {
  try { return JSON.parse(sessionStorage.getItem("wangge.session")); } catch { return null; }
}

export function signIn(token) {
  sessionStorage.setItem("wangge.session", JSON.stringify({ token: token.access_token, role: token.role, user: token.user }));
}

export function signOut() {
  sessionStorage.removeItem("wangge.session");
}

export async function api(path, options = {}) {
  const s = session();
  const headers = { ...(options.headers || {}) };
  if (s) headers.Authorization = `Bearer ${s.token}`;
  const response = await fetch(path, { ...options, headers });
  if (!response.ok) {
    let message = `HTTP ${response.status}`;
    try { message = (await response.json()).error.message; } catch { /* not JSON */ }
    throw new Error(message);
  }
  return response;
}

export const json = async (path, options) => (await api(path, options)).json();

// Statuses, roles and levels as the server defines them (layers/db/vocabulary.py), fetched once.
let words = null;
export function vocabulary() {
  words = words || json("/api/vocabulary");
  return words;
}
