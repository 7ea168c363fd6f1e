/** The feedback inbox: feedback and survey comments for the dates and agent chosen above, its
 * own filters (kind, category, scores, status, words), and paging. */
import { $, el } from "../staff/dom.js";
import { api, query, showStatus, state } from "./dashboard.js";
import { num } from "./format.js";
import { inboxItem } from "./inboxitem.js";
import { handleError } from "./views.js";

const INBOX_LIMIT = 20;

export function readInboxForm() {
  const minText = $("inbox-min-score").value.trim();
  const maxText = $("inbox-max-score").value.trim();
  const score = (text) => (text === "" ? "" : Number(text));
  const filters = {
    kind: $("inbox-kind").value,
    category: $("inbox-category").value,
    channel: $("inbox-channel").value,
    min_score: score(minText),
    max_score: score(maxText),
    status: $("inbox-status").value,
    q: $("inbox-q").value.trim(),
  };
  for (const key of ["min_score", "max_score"]) {
    const value = filters[key];
    if (value !== "" && !(Number.isInteger(value) && value >= 0 && value <= 10)) {
      return { error: "Scores are whole numbers from 0 to 10." };
    }
  }
  if (filters.min_score !== "" && filters.max_score !== "" && filters.min_score > filters.max_score) {
    return { error: "The minimum score must not be above the maximum." };
  }
  return { filters };
}

export function onInboxSearch(event) {
  event.preventDefault();
  const { filters, error } = readInboxForm();
  if (error) {
    showStatus(error, "error");
    return;
  }
  if (!state.applied) return;
  state.inboxFilters = filters;
  state.inbox.offset = 0;
  refreshInbox();
}

export function pageInbox(direction) {
  if (!state.applied) return;
  const offset = state.inbox.offset + direction * INBOX_LIMIT;
  state.inbox.offset = Math.max(0, offset);
  refreshInbox(direction > 0 ? "inbox-next" : "inbox-prev");
}

async function refreshInbox(focusId) {
  try {
    await loadInbox();
  } catch (error) {
    handleError(error);
  }
  if (focusId && !$(focusId).disabled) $(focusId).focus();
}

export async function loadInbox() {
  const gen = ++state.inboxGeneration;
  const filters = state.applied;
  const own = state.inboxFilters || {};
  const params = {
    from: filters.from, to: filters.to, agent_id: filters.agent_id,
    kind: own.kind, category: own.category, channel: own.channel, min_score: own.min_score, max_score: own.max_score,
    status: own.status, q: own.q, limit: INBOX_LIMIT, offset: state.inbox.offset,
  };
  $("inbox-list").setAttribute("aria-busy", "true");
  let page;
  try {
    page = await api(`/api/v1/inbox${query(params)}`);
  } catch (error) {
    if (gen === state.inboxGeneration) {
      $("inbox-list").removeAttribute("aria-busy");
      $("inbox-list").replaceChildren(el("li", "empty", "The inbox could not be loaded."));
      $("inbox-range").textContent = "";
      $("inbox-prev").disabled = state.inbox.offset === 0;
      $("inbox-next").disabled = true;
    }
    throw error;
  }
  if (gen !== state.inboxGeneration) return;
  $("inbox-list").removeAttribute("aria-busy");
  state.inbox = {
    offset: Number.isInteger(page.offset) ? page.offset : state.inbox.offset,
    total: Number(page.total) || 0,
    items: Array.isArray(page.items) ? page.items : [],
  };
  renderInbox();
  state.inboxLoads += 1;
  document.body.dataset.inboxLoaded = String(state.inboxLoads);
}

function renderInbox() {
  const { offset, total, items } = state.inbox;
  const list = $("inbox-list");
  list.replaceChildren();
  for (const item of items) list.append(inboxItem(item));
  if (!items.length) list.append(el("li", "empty", total ? "No more items on this page." : "No item matches these filters."));
  $("inbox-range").textContent = items.length
    ? `${num(offset + 1)}–${num(offset + items.length)} of ${num(total)}`
    : `0 of ${num(total)}`;
  $("inbox-prev").disabled = offset <= 0;
  $("inbox-next").disabled = offset + items.length >= total;
}
