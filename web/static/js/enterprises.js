// The enterprise pages: the search (企业猎搜) with its export links, the daily push of a day with
// a street's visits, and the cockpit's sign-in. Every text from data is set with textContent.
import { ApiError, json, send, session } from "./api.js";
import { byId, el } from "./dom.js";
import { errorText, t } from "./i18n.js";
import { startPage } from "./page.js";

const PAGE = 50;
const FIELDS = ["q", "industry", "label", "status", "street", "separation", "capital_min", "capital_max",
  "founded_from", "founded_to", "change", "changed_from", "changed_to", "abnormal", "growing", "registrar"];

function query(form, extra = {}) {
  const params = new URLSearchParams();
  for (const name of FIELDS) {
    const field = form.elements[name];
    const value = field && (field.type === "checkbox" ? (field.checked ? field.value : "") : field.value.trim());
    if (value) params.set(name, value);
  }
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  return params;
}

function showError(node, error) {
  node.hidden = false;
  node.textContent = errorText(error);
  node.title = (error && error.message) || "";
}

function firmsPage() {
  const form = byId("filters");
  const from = new URLSearchParams(location.search);
  for (const name of FIELDS) {
    const field = form.elements[name];
    if (!from.has(name) || !field) continue;
    if (field.type === "checkbox") field.checked = from.get(name) === field.value;
    else field.value = from.get(name);
  }
  let offset = Number(from.get("offset") || 0);
  const body = byId("firm-table").tBodies[0];

  async function load() {
    const params = query(form);
    byId("export-csv").href = `/api/enterprises?${query(form, { f: "csv" })}`;
    byId("export-xlsx").href = `/api/enterprises?${query(form, { f: "xlsx" })}`;
    history.replaceState(null, "", `/enterprises?${params}${offset ? `&offset=${offset}` : ""}`);
    params.set("limit", PAGE);
    params.set("offset", offset);
    byId("list-error").hidden = true;
    let answer;
    try {
      answer = await json(`/api/enterprises?${params}`);
    } catch (error) {
      showError(byId("list-error"), error);
      document.body.dataset.ready = "true";
      return;
    }
    body.replaceChildren(...answer.items.map((f) => {
      const row = document.createElement("tr");
      row.dataset.code = f.credit_code;
      row.append(el("td", f.credit_code, "code"), el("td", f.name), el("td", `${f.industry} ${f.industry_name || ""}`),
        el("td", f.label || "—"), el("td", f.capital === null ? "—" : f.capital.toLocaleString()),
        el("td", f.founded), el("td", f.status), el("td", f.street_name || "—"), el("td", t(`sep_${f.separation}`)));
      return row;
    }));
    byId("matched").textContent = `${answer.total.toLocaleString()} ${t("firms_matched")}`;
    byId("page").textContent = `${answer.total ? offset + 1 : 0}–${offset + answer.items.length}`;
    byId("prev").disabled = offset === 0;
    byId("next").disabled = offset + answer.items.length >= answer.total;
    document.body.dataset.ready = "true";
  }
  form.addEventListener("submit", (e) => { e.preventDefault(); offset = 0; load(); });
  form.addEventListener("reset", () => {
    // a hidden field's value is its default: a reset keeps the change a cockpit figure opened with
    for (const field of form.querySelectorAll("input[type=hidden]")) field.value = "";
    setTimeout(() => { offset = 0; load(); }, 0);
  });
  byId("prev").addEventListener("click", () => { offset = Math.max(0, offset - PAGE); load(); });
  byId("next").addEventListener("click", () => { offset += PAGE; load(); });
  return startPage(load);
}

function shifted(day, days) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

function visitButton(item) {
  const s = session();
  const mine = s && (s.role === "admin" || s.unit === item.street);
  if (!["registered", "moved_in"].includes(item.kind)) return el("span", "—"); // a new arrival is visited
  if (item.visited_on) {
    const done = el("span", `${t("visited")} ${item.visited_on}`);
    done.dataset.visited = item.visited_on;
    return done;
  }
  if (!mine) return el("span", "—");
  const button = el("button", t("mark_visited"));
  button.type = "button";
  button.dataset.action = "visit";
  button.addEventListener("click", async () => {
    const note = prompt(t("visit_note"), "") ?? null;
    if (note === null) return;
    button.disabled = true;
    try {
      await send(`/api/enterprises/${item.credit_code}/visits`, "POST", { note });
      button.textContent = t("visited");
      button.dataset.done = "true";
    } catch (error) {
      button.disabled = false;
      button.title = error instanceof ApiError ? error.message : "";
      button.textContent = errorText(error);
    }
  });
  return button;
}

function digestPage() {
  const main = byId("digest");
  const day = main.dataset.day;
  byId("day-before").href = `/enterprises/digest/${shifted(day, -1)}`;
  byId("day-after").href = `/enterprises/digest/${shifted(day, 1)}`;
  async function load() {
    let answer;
    try {
      answer = await json(`/api/enterprises/digest?date=${day}`);
    } catch (error) {
      showError(byId("digest-error"), error);
      document.body.dataset.ready = "true";
      return;
    }
    byId("digest-empty").hidden = answer.digests.length > 0;
    const cards = answer.digests.map((d) => {
      const card = byId("digest-card").content.firstElementChild.cloneNode(true);
      card.dataset.recipient = d.recipient;
      card.querySelector(".who").textContent = d.name || d.recipient;
      const levels = ["city", "district", "other"].filter((k) => d.levels[k]).map((k) => `${t(`reg_${k}`)} ${d.levels[k]}`);
      card.querySelector(".count").textContent = [`${d.records}`, ...levels].join(" · ");
      card.querySelector("tbody").append(...d.items.map((item) => {
        const row = document.createElement("tr");
        const visit = el("td");
        visit.append(visitButton(item));
        row.append(el("td", item.change_name), el("td", item.name), el("td", item.industry_name || item.industry),
          el("td", t(`reg_${item.registrar_level}`)), el("td", item.street_name || "—"), visit);
        return row;
      }));
      return card;
    });
    byId("digests").replaceChildren(...cards);
    document.body.dataset.ready = "true";
  }
  return startPage(load);
}

function cockpitPage() {
  const allowed = byId("cockpit").dataset.allowed === "true";
  document.body.dataset.ready = String(allowed);
  return startPage(() => { if (!allowed) location.reload(); });
}

if (byId("firms")) firmsPage();
else if (byId("digest")) digestPage();
else if (byId("cockpit")) cockpitPage();
