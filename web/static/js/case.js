// One case in one screen: the map and area chain, how it was located, the SLA clock, photos,
// reporters (as the role may see them), routing and why, likely duplicates, the history, and
// a button (data-action="…") for every action the user may take, with standard texts.
/* global L */
import { json, send, vocabulary } from "./api.js";
import { assetLink, byId, el } from "./dom.js";
import { currentLang, errorText, t } from "./i18n.js";
import { addAreas, createMap, setBaseMap } from "./map.js";
import { beijing, config, duration, startPage } from "./page.js";

const map = createMap("map", { zoom: 17 });
setBaseMap(map, config.basemap, { tiandituKey: config.tianditu_key });
let words = null;
let shown = null; // the case as last answered
let me = null;
let texts = [];
let outline = null;
let pin = null;
let unitNames = {}; // department codes → names (street offices: the case's own unit name)
const unitName = (code) => (code ? `${unitNames[code] || code} (${code})` : "—");

const OPEN_STEPS = {
  received: ["register", "reject"],
  registered: ["dispatch", "reject", "transfer"],
  dispatched: ["accept", "return", "transfer", "extend"],
  in_progress: ["report", "transfer", "extend"],
  rework: ["accept", "transfer", "extend"],
  verifying: ["close", "rework"],
};
const DISPATCH_ONLY = new Set(["register", "reject", "dispatch", "transfer", "urge", "suspend", "resume", "reopen",
  "correct", "evaluate", "approve_extension", "refuse_extension", "merge"]);
const TRANSITIONS = { register: "registered", reject: "rejected", dispatch: "dispatched", accept: "in_progress",
  return: "registered", report: "verifying", close: "closed", rework: "rework" };
const NEEDS_NOTE = new Set(["reject", "return", "rework", "extend", "refuse_extension", "suspend", "reopen"]);

function allowed(c) {
  const role = me.role;
  const open = words.statuses.find((s) => s.status === c.status).open;
  let list = [];
  if (c.suspended_at) list = ["resume", "correct"];
  else if (open) {
    list = [...(OPEN_STEPS[c.status] || [])];
    if (c.extension_hours) list = list.filter((a) => a !== "extend").concat(["approve_extension", "refuse_extension"]);
    list.push("urge", "suspend", "correct");
  } else if (c.status === "closed") {
    list = ["reopen"];
    if (c.satisfied === null) list.push("evaluate");
  }
  if (!words.handlers.includes(role)) return [];
  return list.filter((a) => words.dispatchers.includes(role) || !DISPATCH_ONLY.has(a));
}

// --- drawing ---------------------------------------------------------------------------------
// A row of a definition list: a text, or a node (a link) inside the <dd>; `id` on the text's
// <dd> or on the node.
function fact(list, label, value, id) {
  const node = value instanceof Node ? value : null;
  const dd = el("dd", node ? null : value ?? "—");
  if (node) dd.append(node);
  if (id) (node || dd).id = id;
  list.append(el("dt", label), dd);
}

function drawSla(c) {
  const box = byId("sla");
  const now = Date.now();
  const end = new Date(c.deadline).getTime();
  const parts = [[t("received"), c.received_at], [t("warn_at"), c.warn_at], [t("deadline"), c.deadline], [t("escalate_at"), c.escalate_at]];
  box.replaceChildren(...parts.map(([label, at]) => el("span", `${label} ${beijing(at)}`)));
  const open = words.statuses.find((s) => s.status === c.status).open;
  let state = "—";
  if (c.suspended_at) state = `${t("suspended")} · ${t("review_on")} ${c.review_on} · ${c.suspend_reason || ""}`;
  else if (open) state = end >= now ? `${t("left")} ${duration((end - now) / 3_600_000)}` : `${t("over")} ${duration((now - end) / 3_600_000)}`;
  const flag = el("strong", state, c.overdue ? `flag-${c.overdue}` : "");
  flag.id = "sla-state";
  flag.dataset.deadline = c.deadline;
  box.append(flag);
  if (c.escalated_to) box.append(el("span", `↑ ${t(c.escalated_to)}`, "flag-red"));
  if (c.extension_hours) box.append(el("span", `${t("pending_extension")} +${c.extension_hours} ${t("hours")}: ${c.extension_reason || ""}`, "flag-amber"));
}

async function drawWhere(c) {
  const list = byId("where");
  list.replaceChildren();
  fact(list, t("located_by"), t(`by_${c.located_by}`), "located-by");
  fact(list, t("raw_input"), Object.entries(c.location_input || {}).map(([k, v]) => `${k}: ${v}`).join(" · ") || "—");
  if (c.location_note) fact(list, t("note"), c.location_note);
  if (outline) map.removeLayer(outline);
  if (pin) map.removeLayer(pin);
  if (!c.point) return;
  const [x, y] = c.point.coordinates;
  pin = L.circleMarker([y, x], { radius: 8, color: "#c0392b", weight: 3, fillOpacity: 0.3 }).addTo(map);
  map.setView([y, x], 17);
  // the chain and worker as the grid is today, and the case's micro-grid outline: side by side
  const outlined = c.micro_grid
    ? json(`/collections/micro_grids/items/${c.micro_grid}`).then((area) => { outline = addAreas(map, area, { color: "#c0392b", fillOpacity: 0.05 }); }).catch(() => {})
    : Promise.resolve();
  const located = await json(`/api/locate?${new URLSearchParams({ lon: x, lat: y })}`);
  for (const key of ["street", "community", "grid", "micro_grid"]) {
    if (located[key]) fact(list, t(key), `${located[key].name} ${located[key].code}`);
  }
  const worker = located.grid && located.grid.worker;
  if (worker && worker.name) fact(list, t("worker"), `${worker.name}${worker.phone ? ` · ${worker.phone}` : ""}`, "grid-worker");
  const edge = `${t("edge_distance")}: ${located.boundary_distance_m} m${located.ambiguous ? ` · ${t("ambiguous")}` : ""}`;
  fact(list, t("micro_grid"), edge, "located-edge");
  byId("located-edge").dataset.ambiguous = String(located.ambiguous);
  await outlined;
}

function drawFacts(c) {
  const list = byId("facts");
  list.replaceChildren();
  fact(list, t("category"), `${c.category} ${c.category_name}`);
  fact(list, t("description"), c.description || "—");
  const source = words.sources.find((s) => s.source === c.source);
  fact(list, t("source"), source ? source[currentLang()] : c.source);
  fact(list, t("routed"), `${c.unit_name || c.unit} (${c.unit}) · ${t("why")}: ${t(`routed_${c.routed_by}`)}`, "routed");
  if (c.second_unit) fact(list, t("act_transfer"), unitName(c.second_unit));
  if (c.asset_id) fact(list, t("asset"), assetLink(c.asset_id));
  if (c.urged) fact(list, t("urged_times"), String(c.urged), "urged");
  if (c.repeats) fact(list, t("repeats_n"), String(c.repeats), "repeats");
  if (c.rounds > 1) fact(list, t("rounds"), String(c.rounds), "rounds");
  if (c.handler) fact(list, t("in_progress"), c.handler);
}

function photoNode(url) {
  if (url.startsWith("/")) { // ours: the thumbnail, opening the display copy (both without EXIF)
    const a = el("a", "", "photo");
    a.href = url;
    a.target = "_blank";
    const img = el("img");
    img.src = `${url}?size=thumb`;
    img.alt = t("photos");
    a.append(img);
    return a;
  }
  const a = el("a", url.replace(/^https?:\/\//, "").slice(0, 40));
  a.href = url;
  a.rel = "noopener noreferrer";
  a.target = "_blank";
  return a;
}

function drawPhotos(c) {
  const box = byId("photos");
  const after = c.history.flatMap((h) => h.photos || []);
  box.replaceChildren();
  for (const [label, urls] of [["before", c.photos || []], ["after", after]]) {
    if (!urls.length) continue;
    const row = el("div", `${label === "before" ? "处置前 before" : "处置后 after"}: `);
    for (const url of urls) row.append(photoNode(url), " ");
    box.append(row);
  }
  if (!box.childNodes.length) box.textContent = "—";
}

function drawReporters(c) {
  byId("reporters").replaceChildren(...(c.reporters.length ? c.reporters : [null]).map((r) => {
    if (!r) return el("li", "—");
    const source = words.sources.find((s) => s.source === r.source);
    return el("li", `${r.name || "—"} · ${r.phone || "—"} · ${source ? source[currentLang()] : r.source}${r.merged_from ? ` · #${r.merged_from}` : ""}`);
  }));
}

function drawHistory(c) {
  byId("timeline").replaceChildren(...c.history.map((h) => {
    const li = el("li");
    li.dataset.action = h.action;
    const name = h.action === "transition" ? `${t(h.from_status) } → ${t(h.to_status)}` : t(`act_${ACTION_OF_EVENT[h.action] || h.action}`);
    li.append(el("div", `${beijing(h.at)} · ${h.actor} (${h.role})`, "when"), el("div", name));
    if (h.unit) li.append(el("div", `${t("unit")}: ${unitName(h.unit)}`));
    if (h.note) li.append(el("div", h.note));
    for (const url of h.photos || []) li.append(photoNode(url));
    return li;
  }).reverse());
}
const ACTION_OF_EVENT = { create: "filed", extend_request: "extend", extend_approve: "approve_extension",
  extend_refuse: "refuse_extension", reroute: "correct", repeat: "repeat", evaluate: "evaluate" };

async function drawDuplicates(c) {
  const list = byId("duplicates");
  // in the page for its first paint; fetched again after every change of the case
  const answer = embeddedDuplicates ? { likely_duplicates: embeddedDuplicates } : await json(`/api/incidents/${c.id}/duplicates`);
  embeddedDuplicates = null;
  const canMerge = words.dispatchers.includes(me.role) && words.statuses.find((s) => s.status === c.status).open;
  list.replaceChildren(...answer.likely_duplicates.map((d) => {
    const li = el("li");
    const a = el("a", d.number);
    a.href = `/cases/${d.number}`;
    li.append(a, ` · ${t(d.status)} · ${d.distance_m} m · ${beijing(d.received_at)} `);
    if (canMerge) {
      const b = el("button", t("merge_into"));
      b.type = "button";
      b.dataset.action = "merge";
      b.dataset.into = String(d.id);
      b.addEventListener("click", () => choose("merge", { into: d.id, label: d.number }));
      li.append(b);
    }
    return li;
  }));
  if (!answer.likely_duplicates.length) list.append(el("li", "—"));
}

function drawActions(c) {
  const box = byId("actions");
  box.replaceChildren(...allowed(c).map((action) => {
    const b = el("button", t(`act_${action}`));
    b.type = "button";
    b.dataset.action = action;
    b.addEventListener("click", () => choose(action));
    return b;
  }));
  if (c.second_unit && allowed(c).includes("transfer")) {
    const quick = el("button", `${t("act_transfer")} → ${unitName(c.second_unit)}`);
    quick.type = "button";
    quick.id = "one-click-transfer";
    quick.addEventListener("click", () => act("transfer", { unit: c.second_unit, note: "一键转办" }));
    box.append(quick);
  }
}

function draw(c) {
  shown = c;
  if (c.unit_name) unitNames[c.unit] = c.unit_name;
  document.title = `${c.number} · ${c.category_name}`;
  byId("case-title").textContent = `${c.number} · ${c.category_name}`;
  const status = byId("case-status");
  status.textContent = t(c.status);
  status.dataset.status = c.status;
  document.body.dataset.status = c.status;
  document.body.dataset.version = String(c.version);
  drawSla(c);
  drawFacts(c);
  drawPhotos(c);
  drawReporters(c);
  drawHistory(c);
  drawActions(c);
  byId("action-form").hidden = true;
  return Promise.all([drawWhere(c), drawDuplicates(c)]);
}

// --- acting ----------------------------------------------------------------------------------
let chosen = null;

function input(name, type, value = "") {
  const node = el(type === "select" ? "select" : "input");
  node.name = name;
  if (type !== "select") node.type = type;
  if (value) node.value = value;
  const label = el("label");
  label.append(el("span", t(name === "hours" ? "extension_hours" : name)), " ", node);
  byId("action-fields").append(label);
  return node;
}

async function choose(action, extra = {}) {
  chosen = { action, ...extra };
  for (const b of byId("actions").querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.action === action));
  byId("action-name").textContent = t(`act_${action}`) + (extra.label ? ` ${extra.label}` : "");
  byId("action-fields").replaceChildren();
  byId("action-error").textContent = "";
  const c = shown;
  if (action === "dispatch" || action === "transfer") {
    const select = input("unit", "select");
    const { units } = await json(`/api/incidents/${c.id}/units`);
    for (const u of units) {
      if (action === "transfer" && u.unit === c.unit) continue;
      select.append(new Option(`${u.name} (${u.unit}) · ${t(u.why === "second" ? "act_transfer" : u.why)}`, u.unit));
    }
    if (action === "transfer" && c.second_unit) select.value = c.second_unit;
  }
  if (action === "extend") Object.assign(input("hours", "number"), { min: "0.5", step: "0.5", required: true });
  if (action === "suspend") {
    const day = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
    input("review_on", "date", day);
  }
  if (action === "report") Object.assign(input("photo", "file"), { accept: "image/*", multiple: true, required: true });
  if (action === "evaluate") {
    const select = input("satisfied", "select");
    select.append(new Option(t("satisfied"), "true"), new Option(t("not_satisfied"), "false"));
  }
  if (action === "correct") {
    const select = input("category", "select");
    for (const cat of config.catalogue.categories) select.append(new Option(`${cat.code} ${cat.name}`, cat.code));
    select.value = c.category;
    input("address", "text");
  }
  const phrases = byId("phrases");
  phrases.replaceChildren(new Option("—", ""));
  const kind = { approve_extension: "approve_extension", refuse_extension: "refuse_extension" }[action] || action;
  for (const p of texts.filter((x) => x.action === kind)) phrases.append(new Option(p.text, p.text));
  byId("note").value = "";
  byId("note").required = NEEDS_NOTE.has(action);
  byId("action-form").hidden = false;
}

function body(action, form) {
  const value = (name) => (form.elements[name] ? form.elements[name].value : "");
  if (TRANSITIONS[action]) {
    const out = { to: TRANSITIONS[action] };
    if (action === "dispatch" && value("unit")) out.unit = value("unit");
    if (action === "report") out.photos = chosen.uploaded || [];
    return [`transitions`, out];
  }
  return {
    transfer: ["transfer", { unit: value("unit") }],
    merge: ["merge", { into: chosen.into }],
    urge: ["urge", {}],
    extend: ["extension", { hours: Number(value("hours")) }],
    approve_extension: ["extension/decision", { approve: true }],
    refuse_extension: ["extension/decision", { approve: false }],
    suspend: ["suspension", { review_on: value("review_on") }],
    resume: ["resume", {}],
    reopen: ["reopen", {}],
    evaluate: ["evaluation", { satisfied: value("satisfied") === "true" }],
    correct: ["correction", { category: value("category"), ...(value("address") ? { address: value("address") } : {}) }],
  }[action];
}

// The after photos of 反馈, uploaded first; the transition names them by their URLs.
async function upload(files) {
  const urls = [];
  for (const file of files) {
    const form = new FormData();
    form.append("photo", file, file.name);
    urls.push((await json("/api/photos", { method: "POST", body: form })).url);
  }
  return urls;
}

async function act(action, extra) {
  const files = byId("action-form").elements.photo;
  if (!extra && action === "report" && files) {
    try { chosen.uploaded = await upload(files.files); } catch (error) {
      byId("action-error").textContent = errorText(error);
      byId("action-error").title = error.message;
      return;
    }
  }
  const [path, payload] = extra ? [action, extra] : body(action, byId("action-form"));
  const note = extra ? extra.note : byId("note").value.trim();
  delete document.body.dataset.actionError;
  try {
    const answer = await send(`/api/incidents/${shown.id}/${path}`, "POST", { ...payload, note, version: shown.version });
    if (action === "merge") { location.href = `/cases/${answer.number}`; return; }
    await draw(answer);
  } catch (error) {
    const p = byId("action-error");
    p.textContent = errorText(error);
    p.title = error.message;
    document.body.dataset.actionError = error.code || "error";
    if (byId("action-form").hidden) { byId("case-error").hidden = false; byId("case-error").textContent = errorText(error); }
  }
}

byId("phrases").addEventListener("change", (e) => { if (e.target.value) byId("note").value = e.target.value; });
byId("action-cancel").addEventListener("click", () => { byId("action-form").hidden = true; });
byId("action-form").addEventListener("submit", (event) => {
  event.preventDefault();
  act(chosen.action);
});

let first = true;
let embeddedDuplicates = config.duplicates || null;
startPage(async (s) => {
  me = s;
  words = words || (await vocabulary());
  unitNames = Object.fromEntries(config.catalogue.departments.map((d) => [d.code, d.name]));
  // the server put the case in the page for its first paint; another user's sign-in fetches it
  const c = first && config.case ? config.case : await json(`/api/incidents/${config.id}`);
  const phrases = first && config.phrases
    ? Promise.resolve(config.phrases).then((list) => { texts = list; })
    : json(`/api/phrases?${new URLSearchParams({ category: c.category })}`).then((answer) => { texts = answer.phrases; });
  first = false;
  await Promise.all([draw(c), phrases]);
  document.body.dataset.ready = "true";
  requestAnimationFrame(() => setTimeout(() => performance.mark("case-drawn"))); // for `make bench`
}, () => { if (shown) draw(shown); });
