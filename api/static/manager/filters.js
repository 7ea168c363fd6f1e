/** The report filters: their form (categories from the server, agents from the staff list),
 * the address bar that keeps them, and applying them to the whole dashboard. */
import { labelMap } from "../staff/config.js";
import { $, option } from "../staff/dom.js";
import { showStatus, state } from "./dashboard.js";
import { updateDownloads } from "./exports.js";
import { isoDate, validDay } from "./format.js";
import { loadAll } from "./loading.js";

const FILTER_KEYS = ["from", "to", "agent_id", "category", "priority", "classification", "owner", "channel"];
const FILTER_FIELDS = {
  from: "filter-from", to: "filter-to", agent_id: "filter-agent", category: "filter-category",
  priority: "filter-priority", classification: "filter-classification", owner: "filter-owner",
  channel: "filter-channel",
};

export function defaultFilters() {
  const today = new Date();
  const from = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 29);
  return {
    from: isoDate(from), to: isoDate(today), agent_id: "", category: "", priority: "", classification: "", owner: "",
    channel: "",
  };
}

export function filtersFromUrl() {
  const params = new URLSearchParams(location.search);
  const defaults = defaultFilters();
  const filters = { ...defaults };
  for (const key of FILTER_KEYS) {
    const value = params.get(key);
    if (value !== null) filters[key] = value;
  }
  if (!validDay(filters.from)) filters.from = defaults.from;
  if (!validDay(filters.to)) filters.to = defaults.to;
  return filters;
}

function setSelect(select, value) {
  const wanted = String(value ?? "");
  select.value = Array.from(select.options).some((o) => o.value === wanted) ? wanted : "";
}

export function writeFilterForm(filters) {
  for (const [key, id] of Object.entries(FILTER_FIELDS)) {
    const field = $(id);
    if (field.tagName === "SELECT") setSelect(field, filters[key]);
    else field.value = filters[key] || "";
  }
}

export function readFilterForm() {
  const filters = {};
  for (const [key, id] of Object.entries(FILTER_FIELDS)) filters[key] = $(id).value.trim();
  return filters;
}

export function fillAgentSelect() {
  const select = $("filter-agent");
  const chosen = select.value;
  select.replaceChildren(option("", "All agents"));
  for (const user of state.users) {
    let label = user.name;
    if (user.role && user.role !== "agent") label += ` (${user.role})`;
    if (user.active === false) label += " — inactive";
    select.append(option(String(user.id), label));
  }
  setSelect(select, chosen);
}

/** The ticket categories (report filter) and feedback categories (inbox) the server defines,
 * after each select's "All categories"; without the config, only that. */
export function fillCategories(config) {
  const tickets = (config && config.ticket_categories) || [];
  const feedback = (config && config.feedback_categories) || [];
  state.categoryLabels = { ...labelMap(tickets), ...labelMap(feedback) };
  for (const [id, labels] of [["filter-category", tickets], ["inbox-category", feedback]]) {
    const select = $(id);
    const chosen = select.value;
    select.replaceChildren(select.options[0], ...labels.map(({ key, label }) => option(key, label)));
    setSelect(select, chosen);
  }
}

export function onApply(event) {
  event.preventDefault();
  const filters = readFilterForm();
  if (!validDay(filters.from) || !validDay(filters.to)) {
    showStatus("Choose a start and an end date.", "error");
    return;
  }
  if (filters.from > filters.to) {
    showStatus("The start date must be on or before the end date.", "error");
    return;
  }
  applyFilters(filters);
}

export function applyFilters(filters) {
  state.applied = filters;
  state.inbox.offset = 0;
  const search = new URLSearchParams();
  for (const key of FILTER_KEYS) if (filters[key]) search.set(key, filters[key]);
  try {
    history.replaceState(null, "", `${location.pathname}?${search.toString()}`);
  } catch { /* the page still works without it */ }
  updateDownloads();
  loadAll();
}
