// Signing in from any page: one dialog, a page session (POST /api/session), signing out.
// When a request meets an ended session (api.js), the dialog opens and the request is sent
// again after signing in; cancelling leaves the page as it was, with the reason shown.
import { endSession, json, onSignInNeeded, remember, session } from "./api.js";
import { byId, el } from "./dom.js";
import { errorText, t } from "./i18n.js";

let waiting = [];

function dialog() {
  let box = byId("signin-dialog");
  if (box) return box;
  box = el("dialog");
  box.id = "signin-dialog";
  const form = el("form");
  form.id = "signin-form";
  form.method = "dialog";
  const reason = el("p", "", "flag-amber");
  reason.id = "signin-reason";
  const user = el("input");
  Object.assign(user, { name: "username", autocomplete: "username", required: true });
  const password = el("input");
  Object.assign(password, { name: "password", type: "password", autocomplete: "current-password", required: true });
  const label = (key, input) => { const l = el("label"); l.append(el("span", t(key)), " ", input); return l; };
  const failed = el("p", "", "flag-red");
  failed.id = "signin-error";
  const menu = el("menu");
  const cancel = el("button", t("cancel"));
  Object.assign(cancel, { value: "cancel", formNoValidate: true });
  const ok = el("button", t("sign_in"));
  ok.value = "ok";
  ok.id = "signin-submit";
  menu.append(cancel, ok);
  form.append(reason, label("user", user), label("password", password), failed, menu);
  box.append(form);
  document.body.append(box);
  form.addEventListener("submit", async (event) => {
    if (event.submitter && event.submitter.value === "cancel") { cancelled(); return; }
    event.preventDefault();
    try {
      remember(await json("/api/session", { method: "POST", body: new URLSearchParams(new FormData(form)) }));
      failed.textContent = "";
      form.reset();
      box.close();
      settle(true);
    } catch (error) {
      failed.textContent = errorText(error);
    }
  });
  box.addEventListener("cancel", cancelled);
  return box;
}

// Not signing in again: an ended session's cookie is cleared, so the page goes on as the public's.
function cancelled() {
  endSession().finally(() => settle(false));
}

function settle(signedIn) {
  const pending = waiting;
  waiting = [];
  for (const [resolve, reject] of pending) {
    if (signedIn) resolve();
    else reject(new Error(t("signed_out")));
  }
  for (const listener of listeners) listener(session());
}

// Open the dialog; resolves once signed in (rejects if the user cancels).
export function signInNow(expired = false) {
  const box = dialog();
  box.querySelector("#signin-reason").textContent = expired ? t("session_ended") : "";
  if (!box.open) box.showModal();
  return new Promise((resolve, reject) => waiting.push([resolve, reject]));
}

const listeners = [];
export function onSessionChange(listener) {
  listeners.push(listener);
}

export async function signOut() {
  await endSession();
  for (const listener of listeners) listener(null);
}

onSignInNeeded(signInNow);
