/** One item of the feedback inbox: what was said, by whom, and its follow-up (reviewed, owner,
 * due date, action taken), saved in place. */
import { setMaxLength } from "../staff/config.js";
import { $, button, el } from "../staff/dom.js";
import { badge, ownerSelect, setRowBusy } from "./controls.js";
import { api, showStatus, state } from "./dashboard.js";
import { capitalise, dateTime, endOfDay, isNum, localDay, num } from "./format.js";
import { handleError } from "./views.js";

const itemKey = (item) => `${item.kind}-${item.id}`;

/** A category's label from the server's config; the key itself, readably, if it has none. */
function categoryLabel(key) {
  return state.categoryLabels[key] || String(key || "").replace(/_/g, " ");
}

export function inboxItem(item) {
  const key = itemKey(item);
  const li = el("li", `inbox-item status-${item.status}`);
  li.dataset.testid = "inbox-item";
  li.dataset.key = key;
  li.dataset.kind = item.kind;
  li.dataset.id = String(item.id);
  li.dataset.status = item.status;

  const top = el("div", "item-top");
  const badges = el("div", "badges");
  badges.append(badge(item.kind === "survey" ? "Survey comment" : "Feedback", "kind"));
  if (item.category && item.category !== "survey_comment") {
    badges.append(badge(categoryLabel(item.category), item.category === "complaint" ? "overdue" : ""));
  }
  if (item.channel === "page") badges.append(badge("Ticket page", "channel"));
  if (isNum(item.score)) {
    const score = badge(`Score ${num(item.score)}`, "score");
    score.dataset.testid = "inbox-score";
    badges.append(score);
  }
  const status = badge(capitalise(item.status), `status-${item.status}`);
  status.dataset.testid = "inbox-status-badge";
  badges.append(status);
  top.append(badges, el("span", "when", dateTime(item.at)));

  const text = el("p", "inbox-text", item.text);
  text.dataset.testid = "inbox-text";

  const meta = el("p", "item-meta");
  // Only feedback given anonymously is "anonymous"; a survey without an e-mail is just unknown.
  const who = item.customer || (item.anonymous ? "anonymous" : "—");
  const parts = [`Customer: ${who}`, `Agent: ${item.agent || "—"}`];
  // A survey answered on a ticket's page is filed under "ticket:<reference>".
  const ticketRef = item.conversation_id?.startsWith("ticket:") ? item.conversation_id.slice(7) : null;
  if (ticketRef) parts.push(`Ticket: ${ticketRef}`);
  else if (item.conversation_id) parts.push(`Chat: ${item.conversation_id}`);
  meta.textContent = parts.join(" · ");

  li.append(top, text, meta);

  const done = [];
  if (item.reviewed_at) done.push(`Reviewed ${dateTime(item.reviewed_at)}`);
  if (item.owner_name) done.push(`Owner: ${item.owner_name}`);
  if (item.due_at) done.push(`Due ${dateTime(item.due_at)}`);
  if (done.length) li.append(el("p", "item-meta", done.join(" · ")));

  const controls = el("div", "inbox-controls");

  const reviewed = Boolean(item.reviewed_at);
  const toggle = button("Mark reviewed", "toggle", "inbox-reviewed");
  toggle.dataset.role = "reviewed";
  toggle.setAttribute("aria-pressed", String(reviewed));
  toggle.addEventListener("click", () => saveInbox(item, { reviewed: !reviewed },
    reviewed ? "Marked not reviewed." : "Marked reviewed.", "reviewed"));

  const ownerField = el("div", "field");
  const owner = ownerSelect(`inbox-${key}-owner`, item.owner_id, item.owner_name, "Owner");
  owner.select.dataset.testid = "inbox-owner";
  owner.select.dataset.role = "owner";
  ownerField.append(owner.fragment);
  ownerField.querySelector("label").className = "";

  const dueField = el("div", "field");
  const dueId = `inbox-${key}-due`;
  const dueLabel = el("label", "", "Due date");
  dueLabel.htmlFor = dueId;
  const due = el("input");
  due.id = dueId;
  due.type = "date";
  due.value = localDay(item.due_at);
  due.dataset.testid = "inbox-due";
  due.dataset.role = "due";
  dueField.append(dueLabel, due);

  const noteField = el("div", "field field-note");
  const noteId = `inbox-${key}-note`;
  const noteLabel = el("label", "", "Action taken");
  noteLabel.htmlFor = noteId;
  const note = el("textarea");
  note.id = noteId;
  note.rows = 2;
  setMaxLength(note, "max_note_chars");
  note.value = item.action_note || "";
  note.dataset.testid = "inbox-note";
  note.dataset.role = "note";
  noteField.append(noteLabel, note);

  const save = button("Save", "primary", "inbox-save");
  save.dataset.role = "save";
  save.addEventListener("click", () => {
    const body = {};
    const ownerValue = owner.select.value;
    const ownerBefore = item.owner_id === null || item.owner_id === undefined ? "" : String(item.owner_id);
    if (ownerValue !== ownerBefore) body.owner_id = ownerValue ? Number(ownerValue) : null;
    if (due.value !== localDay(item.due_at)) {
      if (!due.value) {
        showStatus("A due date cannot be removed here; choose another date instead.", "error");
        return;
      }
      body.due_at = endOfDay(due.value);
    }
    if (note.value !== (item.action_note || "")) body.action_note = note.value;
    if (!Object.keys(body).length) {
      showStatus("Nothing to save: nothing has changed.");
      return;
    }
    saveInbox(item, body, "Saved.", "save");
  });

  const saveRow = el("div", "save-row");
  saveRow.append(toggle, save);
  controls.append(ownerField, dueField, noteField, saveRow);
  li.append(controls);
  return li;
}

async function saveInbox(item, body, done, focusRole) {
  const li = Array.from($("inbox-list").children).find((one) => one.dataset.key === itemKey(item)) || null;
  setRowBusy(li, true);
  let updated;
  try {
    updated = await api(`/api/v1/inbox/${encodeURIComponent(item.kind)}/${encodeURIComponent(item.id)}`,
      { method: "PATCH", json: body });
  } catch (error) {
    setRowBusy(li, false);
    handleError(error);
    return;
  }
  const index = state.inbox.items.findIndex((one) => itemKey(one) === itemKey(item));
  if (index >= 0) state.inbox.items[index] = updated;
  const fresh = inboxItem(updated);
  if (li && li.isConnected) {
    li.replaceWith(fresh);
    fresh.querySelector(`[data-role="${focusRole}"]`)?.focus();
  }
  showStatus(done);
}
