/** Which view the dashboard shows beside the sign-in: the empty dashboard, or "this page needs
 * the manager role"; and where an error is shown. */
import { ApiError } from "../staff/api.js";
import { $ } from "../staff/dom.js";
import { FORBIDDEN_TEXT, session, showStatus, state } from "./dashboard.js";

export function clearDashboard() {
  for (const id of ["kpi-list", "alerts-list", "breaches-body", "recovery-body", "inbox-list", "themes-list",
    "chart-csat", "chart-speed", "chart-volume", "chart-sla"]) {
    $(id).replaceChildren();
  }
  for (const id of ["period", "breaches-note", "inbox-range", "themes-note", "updated", "manager-name"]) {
    $(id).textContent = "";
  }
  $("alerts").hidden = true;
  $("themes-empty").hidden = true;
  $("inbox-prev").disabled = true;
  $("inbox-next").disabled = true;
  $("dashboard").removeAttribute("aria-busy");
  delete document.body.dataset.loading;
}

/** Signed in, but not as a manager: say so, and offer to sign in as someone else. */
export function showForbidden() {
  state.generation += 1;
  state.inboxGeneration += 1;
  clearDashboard();
  $("app-view").hidden = true;
  $("login-view").hidden = true;
  $("forbidden-view").hidden = false;
  const me = session.me;
  $("forbidden-who").textContent = me ? `You are signed in as ${me.name} (${me.role}).` : "";
  showStatus(FORBIDDEN_TEXT, "error");
  $("forbidden-sign-out").focus();
}

/** Show an error where it belongs: 401 is already back at sign-in, 403 is the wrong role. */
export function handleError(error) {
  if (error instanceof ApiError && error.status === 401) return;
  if (error instanceof ApiError && error.status === 403) {
    showForbidden();
    return;
  }
  showStatus(error && error.message ? error.message : String(error), "error");
}
