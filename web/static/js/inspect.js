// The inspection form of the asset page: sign in (OAuth2 password flow), then record a patrol.
// The token lives in sessionStorage only (gone when the tab closes).
import { session, signIn, signOut, vocabulary } from "./api.js";

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

async function errorText(response) {
  try { return (await response.json()).error.message; } catch { return `HTTP ${response.status}`; }
}

signin.addEventListener("submit", async (event) => {
  event.preventDefault();
  const response = await fetch("/api/token", { method: "POST", body: new URLSearchParams(new FormData(signin)) });
  if (!response.ok) { message.textContent = await errorText(response); return; }
  signIn(await response.json());
  message.textContent = "";
  show();
});

document.getElementById("signout").addEventListener("click", (event) => {
  event.preventDefault();
  signOut();
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
  const response = await fetch(`/api/assets/${encodeURIComponent(assetId)}/inspections`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${s.token}` },
    body: JSON.stringify(body),
  });
  if (response.status === 401) { signOut(); show(); }
  if (!response.ok) { message.textContent = await errorText(response); return; }
  const saved = await response.json();
  message.textContent = saved.incident_id ? `已记录并立案 (case ${saved.incident_id})` : "已记录 (saved)";
  window.location.reload();
});

show();
section.dataset.ready = "true";
