// The phone pages' outbox: what a user does without a connection waits in IndexedDB, photos
// and all, and is sent in the order it was done once the phone is back online. Every action
// carries its own Idempotency-Key, so an action the server took but whose answer was lost is
// not taken twice when it is sent again. An action the server refuses (the case moved on
// meanwhile, a photo it cannot read) leaves the queue and is shown with the server's reason.
import { ApiError, authHeaders } from "./api.js";

const DB_NAME = "wangge-offline";
const QUEUE = "queue";
const PROBLEMS = "problems";
const listeners = new Set();
const senders = new Set();

function open() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => {
      const db = request.result;
      db.createObjectStore(QUEUE, { keyPath: "seq", autoIncrement: true });
      db.createObjectStore(PROBLEMS, { keyPath: "key" });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function store(name, mode, work) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(name, mode);
    const result = work(tx.objectStore(name));
    tx.oncomplete = () => { db.close(); resolve(result && "result" in result ? result.result : result); };
    tx.onerror = () => { db.close(); reject(tx.error); };
  });
}

export const queued = () => store(QUEUE, "readonly", (s) => s.getAll());
export const problems = () => store(PROBLEMS, "readonly", (s) => s.getAll());
export const dismiss = async (key) => { await store(PROBLEMS, "readwrite", (s) => s.delete(key)); changed(); };

export function onChange(listener) {
  listeners.add(listener);
}

// Called with (action, answer) for each action the queue delivers later.
export function onSent(listener) {
  senders.add(listener);
}

function changed() {
  for (const listener of listeners) listener();
}

function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `phone-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

// The request of an action: JSON, or a form with the JSON in `data` and the photos as files.
function request(action) {
  const headers = { "Idempotency-Key": action.key, ...authHeaders() };
  if (action.device) headers["X-Device-Id"] = action.device;
  let body;
  if (action.photos && action.photos.length) {
    body = new FormData();
    body.append("data", JSON.stringify(action.json));
    for (const photo of action.photos) body.append("photos", photo.blob, photo.name);
  } else {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(action.json);
  }
  return fetch(action.url, { method: "POST", headers, body, credentials: "same-origin" });
}

async function deliver(action) {
  const response = await request(action); // a TypeError here: no connection
  let body = null;
  try { body = await response.json(); } catch { /* not JSON */ }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

// Send an action now, or keep it for later when there is no connection. Answers
// { sent: body } or { queued: true }; a refusal of the server is thrown (nothing is kept).
export async function submit({ url, json, photos = [], label, device = null }) {
  const action = { key: newKey(), url, json, photos, label, device, at: new Date().toISOString() };
  if (navigator.onLine) {
    try {
      return { sent: await deliver(action) };
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
    }
  }
  await store(QUEUE, "readwrite", (s) => s.add(action));
  changed();
  return { queued: true };
}

let flushing = null;

// Send what waits, oldest first; stop at the first one the network does not carry.
export function flush() {
  flushing = flushing || (async () => {
    let sent = 0;
    try {
      for (const action of await queued()) {
        try {
          const answer = await deliver(action);
          sent += 1;
          for (const listener of senders) listener(action, answer);
        } catch (error) {
          if (error instanceof TypeError) break; // still offline: the rest waits, in order
          if (error.status === 401 || error.status === 403 && error.code === "csrf") break; // sign in, then on
          await store(PROBLEMS, "readwrite", (s) => s.put({ ...action, photos: [], problem: error.message, code: error.code, field: error.field }));
        }
        await store(QUEUE, "readwrite", (s) => s.delete(action.seq));
        changed();
      }
    } finally {
      flushing = null;
    }
    return sent;
  })();
  return flushing;
}

window.addEventListener("online", () => { flush(); });
