// What every phone page shares: the language toggle, the service worker that keeps the pages
// working offline, the offline banner, and the list of what waits to be sent.
import { checkSession, endSession, json, pageConfig, remember, session } from "./api.js";
import { byId, el } from "./dom.js";
import { currentLang, errorText, setLang, t } from "./i18n.js";
import { dismiss, flush, onChange, problems, queued } from "./offline.js";

export const config = pageConfig();

export function statusName(status) {
  const found = (config.vocabulary.statuses || []).find((s) => s.status === status);
  return found ? found[currentLang()] : status;
}

export function beijing(at) {
  return new Date(at).toLocaleString(currentLang() === "en" ? "en-GB" : "zh-CN", { timeZone: "Asia/Shanghai", hour12: false });
}

async function drawQueue() {
  const [waiting, refused] = await Promise.all([queued(), problems()]);
  byId("queue").hidden = !waiting.length && !refused.length;
  byId("queue-count").textContent = String(waiting.length);
  byId("queue-list").replaceChildren(...waiting.map((a) => el("li", `${a.label} · ${beijing(a.at)}`)));
  byId("queue-problems").replaceChildren(...refused.map((a) => {
    const li = el("li", `${a.label}: ${t("not_sent")} — ${errorText(a)}`);
    li.title = a.problem;
    li.append(el("span", ` (${a.problem})`, "note"));
    const ok = el("button", t("dismiss"), "quiet");
    ok.type = "button";
    ok.addEventListener("click", () => dismiss(a.key));
    li.append(" ", ok);
    return li;
  }));
  document.body.dataset.queued = String(waiting.length);
  document.body.dataset.problems = String(refused.length);
}

function showOnline() {
  byId("offline").hidden = navigator.onLine;
  document.body.dataset.online = String(navigator.onLine);
}

// Start a phone page; `relabel` redraws its texts when the language changes.
export async function startPhone(relabel = () => {}) {
  byId("lang").addEventListener("click", () => {
    const next = currentLang() === "zh" ? "en" : "zh";
    setLang(next);
    localStorage.setItem("wangge.lang", next);
    byId("lang").textContent = next === "zh" ? "EN" : "中文";
    relabel();
    drawQueue();
  });
  if (localStorage.getItem("wangge.lang") === "en") byId("lang").click();
  await workOffline();
}

// The offline part alone (the asset page has its own language line): the banner, the queue,
// the service worker, and sending what waits.
export async function workOffline() {
  window.addEventListener("online", showOnline);
  window.addEventListener("offline", showOnline);
  showOnline();
  onChange(drawQueue);
  await drawQueue();
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(() => navigator.serviceWorker.ready)
      .then(() => { document.body.dataset.offlineReady = "true"; })
      .catch(() => { /* no offline use here; the page itself works */ });
  }
  if (navigator.onLine) flush();
}

// A photo from the camera or the gallery, kept as a Blob (it goes to IndexedDB as it is).
export function photoPicker(input, list, max = 3) {
  const chosen = [];
  const draw = () => {
    list.replaceChildren(...chosen.map((p, i) => {
      const li = el("li", "", "thumb");
      const img = document.createElement("img");
      img.src = URL.createObjectURL(p.blob);
      img.alt = p.name;
      const x = el("button", "×", "quiet");
      x.type = "button";
      x.setAttribute("aria-label", t("remove_photo"));
      x.addEventListener("click", () => { chosen.splice(i, 1); draw(); });
      li.append(img, x);
      return li;
    }));
    input.disabled = chosen.length >= max;
  };
  input.addEventListener("change", () => {
    for (const file of input.files) if (chosen.length < max) chosen.push({ blob: file, name: file.name || "photo.jpg" });
    input.value = "";
    draw();
  });
  return { photos: () => chosen.slice(), clear: () => { chosen.length = 0; draw(); } };
}

// The device's own random id (a report's flood limit counts per device as well as per address).
export function deviceId() {
  let id = localStorage.getItem("wangge.device");
  if (!id) {
    id = Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, "0")).join("");
    localStorage.setItem("wangge.device", id);
  }
  return id;
}

// The field worker's session: the live one (or, offline, the one this tab had); otherwise the
// page's sign-in form, and the promise resolves once signed in.
export async function fieldSession() {
  const form = byId("signin");
  const known = navigator.onLine ? await checkSession() : session();
  if (known) {
    form.hidden = true;
    return known;
  }
  form.hidden = false;
  return new Promise((resolve) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        remember(await json("/api/session", { method: "POST", body: new URLSearchParams(new FormData(form)) }));
        form.hidden = true;
        resolve(session());
      } catch (error) { byId("signin-message").textContent = errorText(error); }
    });
  });
}

// Signing out also forgets what the service worker kept of this worker's tasks.
export async function signOutPhone() {
  await endSession();
  if (navigator.serviceWorker && navigator.serviceWorker.controller) navigator.serviceWorker.controller.postMessage("forget");
  window.location.reload();
}

// Thumbnails of the platform's photos (other URLs are left out: they are not ours to show).
export function thumbnails(list, urls) {
  list.replaceChildren(...urls.filter((p) => p.startsWith("/api/photos/")).map((p) => {
    const li = el("li", "", "thumb");
    const img = document.createElement("img");
    img.src = `${p}?size=thumb`;
    img.alt = t("photo");
    li.append(img);
    return li;
  }));
  return list.childElementCount;
}
