// What every case page shares: the language toggle (kept in localStorage), the sign-in
// button, and a signed-in session before the page loads its data.
import { forget, pageConfig, remember, session } from "./api.js";
import { byId } from "./dom.js";
import { currentLang, setLang, t } from "./i18n.js";
import { onSessionChange, signInNow, signOut } from "./signin.js";

export const config = pageConfig();

function showSession() {
  const s = session();
  byId("signin").textContent = s ? `${s.user} · ${t("sign_out")}` : t("sign_in");
}

// Start the page: `load(session)` runs once signed in (the dialog opens when needed), and again
// whenever someone else signs in; signing in again as the same user (an ended session) loads
// nothing: the request that met the end is sent again and the page goes on from there.
// `relabel` redraws texts on a language change.
export async function startPage(load, relabel = () => {}) {
  byId("lang").addEventListener("click", () => {
    const next = currentLang() === "zh" ? "en" : "zh";
    setLang(next);
    localStorage.setItem("wangge.lang", next);
    byId("lang").textContent = next === "zh" ? "EN" : "中文";
    showSession();
    relabel();
  });
  if (localStorage.getItem("wangge.lang") === "en") byId("lang").click();
  byId("signin").addEventListener("click", () => {
    if (session()) signOut();
    else signInNow().catch(() => {});
  });
  let loadedFor = null;
  const loadAs = (s) => {
    if (s.user === loadedFor) return undefined;
    loadedFor = s.user;
    return load(s);
  };
  onSessionChange((s) => {
    showSession();
    if (s) loadAs(s);
  });
  if (config.session) remember(config.session); // the server found a live session for this page
  else forget();
  const s = session();
  showSession();
  if (s) return loadAs(s);
  return signInNow().catch(() => { document.body.dataset.signedOut = "true"; });
}

// "3.5 小时" / "2 天": a duration in the interface's words.
export function duration(hours) {
  const h = Math.abs(hours);
  return h >= 48 ? `${(h / 24).toFixed(1)} ${t("days")}` : `${h.toFixed(1)} ${t("hours")}`;
}

export function beijing(at) {
  return new Date(at).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false });
}
