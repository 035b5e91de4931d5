// The inspection form of the asset page: sign in (a page session: HttpOnly cookie, CSRF token),
// then record a patrol.
import { ApiError, checkSession, endSession, forget, json, remember, send, session, vocabulary } from "./api.js";

const section = document.getElementById("record");
const signin = document.getElementById("signin");
const form = document.getElementById("inspect");
const message = document.getElementById("record-message");
const assetId = JSON.parse(document.getElementById("asset-data").textContent).id;
const { handlers } = await vocabulary(); // the roles that may record inspections

function show() {
  const s = session();
  const allowed = s && handlers.includes(s.role);
  signin.hidden = Boolean(allowed);
  form.hidden = !allowed;
  if (allowed) document.getElementById("who").textContent = `${s.user} (${s.role})`;
  else if (s) message.textContent = `${s.user} 无巡查权限 (a ${s.role} cannot record inspections)`;
}

signin.addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    remember(await json("/api/session", { method: "POST", body: new URLSearchParams(new FormData(signin)) }));
    message.textContent = "";
  } catch (error) { message.textContent = error.message; }
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

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const s = session();
  const body = { inspector: s.user, result: form.result.value, note: form.note.value };
  if (body.result === "defect") {
    body.defect = form.defect.value;
    body.open_incident = form.open_incident.checked;
  }
  if (form.photo_url.value) body.photo_url = form.photo_url.value;
  let saved;
  try {
    saved = await send(`/api/assets/${encodeURIComponent(assetId)}/inspections`, "POST", body);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) { forget(); show(); }
    message.textContent = error.message;
    return;
  }
  message.textContent = saved.incident_id ? `已记录并立案 (case ${saved.incident_id})` : "已记录 (saved)";
  window.location.reload();
});

await checkSession();
show();
section.dataset.ready = "true";
