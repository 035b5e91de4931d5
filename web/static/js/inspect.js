// The inspection form of the asset page, at the top for a signed-in field worker: result,
// defect, a photo from the camera, a note. It goes through the phone's queue (offline it waits
// with its photo), and what was recorded stays on screen with the new line in the history —
// no reload wipes it. Others see a small sign-in link at the bottom.
import { checkSession, endSession, json, remember, session, vocabulary } from "./api.js";
import { el } from "./dom.js";
import { errorText } from "./i18n.js";
import { submit } from "./offline.js";
import { photoPicker, workOffline } from "./phone.js";

const section = document.getElementById("record");
const signin = document.getElementById("signin");
const form = document.getElementById("inspect");
const message = document.getElementById("record-message");
const assetId = JSON.parse(document.getElementById("asset-data").textContent).id;
const { handlers } = await vocabulary(); // the roles that may record inspections
const photo = photoPicker(document.getElementById("inspect-photo"), document.getElementById("inspect-photos"), 1);

function show() {
  const s = session();
  const allowed = s && handlers.includes(s.role);
  if (allowed) section.hidden = false;
  signin.hidden = Boolean(allowed);
  form.hidden = !allowed;
  document.getElementById("staff-link").hidden = Boolean(allowed);
  if (allowed) document.getElementById("who").textContent = `${s.user} (${s.role})`;
  else if (s) message.textContent = `${s.user} 无巡查权限 (a ${s.role} cannot record inspections)`;
}

document.getElementById("staff-link").addEventListener("click", () => { section.hidden = false; });

signin.addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    remember(await json("/api/session", { method: "POST", body: new URLSearchParams(new FormData(signin)) }));
    message.textContent = "";
  } catch (error) { message.textContent = errorText(error); }
  show();
});

document.getElementById("signout").addEventListener("click", async (event) => {
  event.preventDefault();
  await endSession();
  show();
});

form.addEventListener("change", () => {
  const defect = form.result.value === "defect";
  form.defect.disabled = !defect;
  form.open_incident.disabled = !defect;
});

// Staff see the inspections' photos too (the public's page has none: staff photos).
async function drawPhotos() {
  let found;
  try { found = (await json(`/api/assets/${encodeURIComponent(assetId)}/inspections?limit=20`)).results; } catch { return; }
  const items = document.getElementById("inspections").children;
  found.forEach((inspection, i) => {
    if (!inspection.photo_url || !inspection.photo_url.startsWith("/api/photos/") || !items[i]) return;
    const a = el("a", "", "photo");
    a.href = inspection.photo_url;
    a.target = "_blank";
    const img = el("img");
    img.src = `${inspection.photo_url}?size=thumb`;
    img.alt = "照片 photo";
    img.className = "inline-thumb";
    a.append(img);
    items[i].append(" ", a);
  });
}

function recorded(text) {
  const list = document.getElementById("inspections");
  const now = new Date().toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false });
  list.prepend(el("li", `${now} · ${text}`));
  const none = document.getElementById("no-inspections");
  if (none) none.remove();
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = { result: form.result.value, note: form.note.value };
  if (body.result === "defect") {
    body.defect = form.defect.value;
    body.open_incident = form.open_incident.checked;
  }
  const result = body.result === "ok" ? "正常 OK" : form.defect.selectedOptions[0].textContent;
  try {
    const done = await submit({
      url: `/api/assets/${encodeURIComponent(assetId)}/inspections`, json: body, photos: photo.photos(), label: `巡查 ${assetId}`,
    });
    if (done.queued) {
      message.textContent = "已保存在手机上，联网后自动发送 (kept on the phone: sent when back online)";
    } else {
      const saved = done.sent;
      message.textContent = saved.incident_id
        ? `已记录并立案 (saved, case ${saved.incident_id}) · ${result}`
        : `已记录 (saved) · ${result}`;
      recorded(result);
    }
    form.reset();
    photo.clear();
    form.dispatchEvent(new Event("change"));
    document.body.dataset.recorded = String(Number(document.body.dataset.recorded || 0) + 1);
  } catch (error) {
    if (error.status === 401) { await endSession(); show(); }
    message.textContent = errorText(error);
    message.title = error.message;
  }
});

await checkSession().catch(() => null);
show();
if (session() && handlers.includes(session().role)) await drawPhotos();
await workOffline();
section.dataset.ready = "true";
