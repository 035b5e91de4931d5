// A case as its reporter follows it: the status in plain words, the steps with their times,
// the reply when it was not accepted, and — once it is closed — the satisfaction visit (回访),
// answered with the key of the link the reporter got. The public's view: no names, no staff,
// the place to about 50 m. The page and its answer are kept on the phone for offline reading.
/* global L */
import { json, send } from "./api.js";
import { byId, el } from "./dom.js";
import { errorText, t } from "./i18n.js";
import { createMap, vectorLayer } from "./map.js";
import { beijing, config, startPhone, statusName, thumbnails } from "./phone.js";

const number = config.number;
const token = new URLSearchParams(window.location.search).get("visit");
let map = null;
let shown = null;

function step(e, c) {
  const key = e.action === "create" ? "step_create" : e.from_status === e.to_status ? `step_${e.action}` : `step_${e.to_status}`;
  const said = t(key) === key ? statusName(e.to_status) : t(key);
  return el("li", `${beijing(e.at)} · ${said}${e.to_status === "dispatched" && c.unit_name ? ` · ${c.unit_name}` : ""}`);
}

function draw(c) {
  shown = c;
  byId("status").textContent = statusName(c.status);
  byId("status").dataset.status = c.status;
  byId("what").textContent = `${c.category_name}${c.description ? ` · ${c.description}` : ""}`;
  byId("reason").hidden = !c.reason;
  byId("reason").textContent = c.reason ? `${t("reply")}：${c.reason}` : "";
  byId("merged").hidden = !c.merged_number;
  if (c.merged_number) {
    byId("merged-link").textContent = c.merged_number;
    byId("merged-link").href = `/track/${c.merged_number}`;
  }
  byId("steps").replaceChildren(...c.history.map((e) => step(e, c)));
  byId("visit").hidden = !(c.visit_open && token) && !(c.satisfied !== null && c.status === "closed");
  byId("visit-form").hidden = !(c.visit_open && token);
  if (c.status === "closed" && c.satisfied !== null) byId("visit-message").textContent = t(c.satisfied ? "said_satisfied" : "said_unsatisfied");
  thumbnails(byId("photos"), c.photos || []);
  if (c.point) {
    const [lon, lat] = c.point.coordinates;
    if (!map) {
      map = createMap("map", { center: [lat, lon], zoom: 16 });
      for (const name of ["streets", "communities"]) vectorLayer(name).addTo(map);
    }
    L.circle([lat, lon], { radius: 50, color: "#3b6ea8", weight: 2, fillOpacity: 0.15 }).addTo(map);
  } else byId("map").hidden = true;
  document.body.dataset.status = c.status;
}

for (const b of byId("visit-form").querySelectorAll("[data-satisfied]")) {
  b.addEventListener("click", async () => {
    try {
      draw(await send(`/api/track/${number}/visit`, "POST", {
        token, satisfied: b.dataset.satisfied === "true", note: byId("visit-form").elements.note.value.trim(),
      }));
      byId("visit-message").textContent = t("thanks_visit");
    } catch (error) { byId("visit-message").textContent = errorText(error); }
  });
}

await startPhone(() => { if (shown) draw(shown); });
try {
  draw(await json(`/api/track/${number}`));
} catch (error) {
  byId("status").textContent = error.status === 404 ? t("no_such_case") : errorText(error);
}
document.body.dataset.ready = "true";
