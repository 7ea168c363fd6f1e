/** The manager dashboard (/manager): signs a manager in (anyone else is told the page needs the
 * role), fills the filters and wires the page's sections together. Every text from the server is
 * shown with textContent; the charts are SVG built node by node. */
import { ApiError } from "../staff/api.js";
import { applyPageConfig, pageConfig } from "../staff/config.js";
import { $ } from "../staff/dom.js";
import { api, session, signIn, state } from "./dashboard.js";
import { buildDownloads, updateDownloads } from "./exports.js";
import {
  applyFilters, fillAgentSelect, fillCategories, filtersFromUrl, onApply, readFilterForm, writeFilterForm,
} from "./filters.js";
import { onInboxSearch, pageInbox, readInboxForm } from "./inbox.js";
import { clearDashboard, handleError, showForbidden } from "./views.js";

const MANAGER_ROLES = ["manager", "admin"];

async function start(me) {
  if (!me || !MANAGER_ROLES.includes(me.role)) {
    showForbidden();
    return;
  }
  $("manager-name").textContent = me.name;
  $("login-view").hidden = true;
  $("forbidden-view").hidden = true;
  $("app-view").hidden = false;
  let users = [];
  try {
    users = await api("/api/v1/users");
  } catch (error) {
    handleError(error);
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return;
  }
  const config = await pageConfig();
  if (session.me !== me) return; // signed out meanwhile
  state.users = (Array.isArray(users) ? users : []).slice()
    .sort((a, b) => String(a.name).localeCompare(String(b.name), "en-GB"));
  fillCategories(config);
  fillAgentSelect();
  writeFilterForm(filtersFromUrl());
  state.inboxFilters = readInboxForm().filters;
  applyFilters(readFilterForm());
}

/** Signed out: older answers dropped, nothing shown. */
function reset() {
  state.generation += 1;
  state.inboxGeneration += 1;
  state.users = [];
  state.recovery = [];
  state.inbox = { offset: 0, total: 0, items: [] };
  clearDashboard();
}

function bindEvents() {
  $("forbidden-sign-out").addEventListener("click", signIn.signOut);
  $("filters").addEventListener("submit", onApply);
  $("inbox-filters").addEventListener("submit", onInboxSearch);
  $("inbox-prev").addEventListener("click", () => pageInbox(-1));
  $("inbox-next").addEventListener("click", () => pageInbox(1));
  $("redact").addEventListener("change", updateDownloads);
}

// Asked now: the company's name in the title and the longest search at once; the categories and the
// longest note (the rows built once signed in) after.
applyPageConfig({ "inbox-q": "max_search_chars" });
bindEvents();
buildDownloads();
updateDownloads();
signIn.boot({ start, reset });
