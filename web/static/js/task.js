// One task on the field phone: where it is and the way there, what was reported, and the
// step to take — 开始处置, 处置完成 with after photos from the camera and a note, or 核查 for a
// verifier. Every step goes through the phone's queue: without a connection it waits, photos
// and all, and is sent once, in order, when the phone is back online; a step the case has
// moved past meanwhile comes back with what changed.
import { json } from "./api.js";
import { byId } from "./dom.js";
import { errorText, t } from "./i18n.js";
import { addPoints, createMap, vectorLayer, wgs84ToGcj02 } from "./map.js";
import { onSent, submit } from "./offline.js";
import { config, fieldSession, photoPicker, startPhone, statusName, thumbnails } from "./phone.js";

const after = photoPicker(byId("after"), byId("after-photos"), 6);
let c = null;
let map = null;
let me = null;

function say(text, ok = false) {
  byId("act-message").textContent = text;
  byId("act-message").className = ok ? "message ok" : "message";
}

function draw() {
  byId("case").hidden = false;
  byId("act").hidden = false;
  byId("status").textContent = statusName(c.status);
  document.body.dataset.status = c.status;
  byId("what").textContent = `${c.category_name}${c.description ? ` · ${c.description}` : ""}`;
  byId("address").textContent = (c.location_input && c.location_input.address) || c.community_name || "";
  const hours = (new Date(c.deadline) - Date.now()) / 3.6e6;
  byId("clock").textContent = hours < 0 ? `${t("overdue_by")} ${(-hours).toFixed(1)} ${t("hours")}` : `${t("time_left")} ${hours.toFixed(1)} ${t("hours")}`;
  byId("clock").className = c.overdue || "";
  const phone = (c.reporters || []).map((r) => r.phone).find((p) => p && !p.includes("*"));
  byId("call").hidden = !phone;
  if (phone) byId("call").href = `tel:${phone}`;
  if (c.point) {
    const [lon, lat] = c.point.coordinates;
    byId("navigate").href = `geo:${lat.toFixed(7)},${lon.toFixed(7)}?q=${lat.toFixed(7)},${lon.toFixed(7)}`;
    const [glon, glat] = wgs84ToGcj02(lon, lat);
    byId("amap").href = `https://uri.amap.com/marker?position=${glon.toFixed(7)},${glat.toFixed(7)}&name=${encodeURIComponent(c.number)}`;
    if (!map) {
      map = createMap("map", { center: [lat, lon], zoom: 17 });
      for (const name of ["streets", "communities", "micro_grids"]) vectorLayer(name).addTo(map);
      addPoints(map, [{ lon, lat, label: c.number }], { color: "#c0392b", radius: 9 });
    }
  }
  const verifying = c.status === "verifying";
  byId("start").hidden = !["dispatched", "rework"].includes(c.status);
  byId("finish").hidden = c.status !== "in_progress";
  byId("verify").hidden = !verifying || c.handler === me.user;
  byId("photos-box").hidden = !thumbnails(byId("photos"), [...(c.photos || []), ...c.history.flatMap((e) => e.photos || [])]);
}

// Send a step of the workflow (now, or queued); the case as the server has it afterwards.
async function step(to, label, { note = "", photos = [] } = {}) {
  say("");
  byId("act-detail").textContent = "";
  try {
    const result = await submit({
      url: `/api/incidents/${c.id}/transitions`, json: { to, note, version: c.version }, photos, label: `${label} ${c.number}`,
    });
    if (result.queued) {
      say(t("kept_on_phone"), true);
      document.body.dataset.pending = to;
      return true;
    }
    c = result.sent;
    draw();
    say(`${label} · ${t("sent")}`, true);
    fetch(`/api/incidents/${c.id}`).catch(() => null); // the phone's kept copy follows (service worker)
    return true;
  } catch (error) {
    say(errorText(error));
    byId("act-detail").textContent = error.message; // what changed meanwhile, as the server says it
    return false;
  }
}

byId("start").addEventListener("click", () => step("in_progress", t("start_work")));

byId("finish").addEventListener("submit", async (event) => {
  event.preventDefault();
  const photos = after.photos();
  if (!photos.length) { say(t("need_after_photo")); return; }
  if (await step("verifying", t("finish_work"), { note: byId("finish").elements.note.value.trim(), photos })) {
    after.clear();
    byId("finish").reset();
  }
});

byId("pass").addEventListener("click", () => step("closed", t("verify_pass"), { note: byId("verify").elements.note.value.trim() }));
byId("fail").addEventListener("click", () => {
  const note = byId("verify").elements.note.value.trim();
  if (!note) { say(t("need_verify_note")); return; }
  step("rework", t("verify_fail"), { note });
});

// A step sent later from the queue: show the case as it is now.
onSent((action, answer) => {
  if (c && answer && answer.id === c.id) {
    c = answer;
    delete document.body.dataset.pending;
    draw();
    fetch(`/api/incidents/${c.id}`).catch(() => null);
  }
});

await startPhone(() => { if (c) draw(); });
me = await fieldSession();
if (config.case_id === null) {
  say(t("no_such_case"));
} else {
  try {
    c = await json(`/api/incidents/${config.case_id}`);
    draw();
  } catch (error) {
    byId("act").hidden = false;
    say(errorText(error));
  }
}
document.body.dataset.ready = "true";
