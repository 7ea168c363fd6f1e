/** Open service-recovery items (an unhappy survey or a complaint): their owner, e-mailing the
 * customer (which marks it contacted), marking one contacted, and closing it with an outcome. */
import { setMaxLength } from "../staff/config.js";
import { $, button, el } from "../staff/dom.js";
import { badge, emptyRow, ownerSelect, setRowBusy, visuallyHiddenLabel } from "./controls.js";
import { api, showStatus, state } from "./dashboard.js";
import { capitalise, dateTime } from "./format.js";
import { handleError } from "./views.js";

export function renderRecovery() {
  const body = $("recovery-body");
  body.replaceChildren();
  if (!state.recovery.length) body.append(emptyRow(5, "No recovery item is open."));
  for (const item of state.recovery) body.append(recoveryRow(item));
}

function recoveryRow(item) {
  const row = el("tr", item.overdue ? "overdue" : "");
  row.dataset.testid = "recovery-row";
  row.dataset.id = String(item.id);
  row.dataset.overdue = String(Boolean(item.overdue));
  row.dataset.status = item.status;

  const reason = el("th", "reason");
  reason.scope = "row";
  reason.append(el("span", "", capitalise(item.reason)));
  const origin = [item.source ? capitalise(String(item.source).replace(/_/g, " ")) : "",
    item.conversation_id ? `chat ${item.conversation_id}` : "", `opened ${dateTime(item.created_at)}`].filter(Boolean);
  reason.append(el("span", "sub", origin.join(" · ")));
  for (const mail of item.follow_ups || []) {
    const line = el("span", `sub mail-${mail.status}`, followUpText(mail));
    line.dataset.testid = "recovery-follow-up";
    line.dataset.status = mail.status;
    reason.append(line);
  }

  const ownerCell = el("td");
  const owner = ownerSelect(`recovery-${item.id}-owner`, item.owner_id, item.owner_name,
    `Owner of recovery item: ${item.reason}`);
  owner.select.dataset.testid = "recovery-owner";
  owner.select.dataset.role = "owner";
  owner.select.addEventListener("change", () => {
    const value = owner.select.value;
    patchRecovery(item, { owner_id: value ? Number(value) : null },
      value ? `Owner set to ${owner.select.selectedOptions[0].textContent}.` : "Owner removed.", "owner");
  });
  ownerCell.append(owner.fragment);

  const due = el("td", "nowrap");
  due.append(el("span", "", dateTime(item.due_at)));
  if (item.overdue) {
    due.append(" ");
    const flag = badge("Overdue", "overdue");
    flag.dataset.testid = "recovery-overdue";
    due.append(flag);
  }

  const status = el("td");
  status.append(badge(capitalise(item.status), `status-${item.status}`));

  const actions = el("td");
  const box = el("div", "row-actions");
  const contacted = button("Mark contacted", "", "recovery-contacted");
  contacted.dataset.role = "contacted";
  contacted.disabled = item.status === "contacted";
  contacted.addEventListener("click", () => patchRecovery(item, { status: "contacted" },
    "Recovery item marked contacted.", "contacted"));
  const outcomeId = `recovery-${item.id}-outcome`;
  const outcome = el("input", "outcome");
  outcome.id = outcomeId;
  outcome.type = "text";
  setMaxLength(outcome, "max_note_chars");
  outcome.placeholder = "Outcome";
  outcome.dataset.testid = "recovery-outcome";
  outcome.dataset.role = "outcome";
  const close = button("Close", "", "recovery-close");
  close.dataset.role = "close";
  const closeItem = () => {
    const text = outcome.value.trim();
    const body = { status: "closed" };
    if (text) body.outcome = text;
    patchRecovery(item, body, "Recovery item closed.", "close");
  };
  close.addEventListener("click", closeItem);
  outcome.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      closeItem();
    }
  });
  box.append(contacted, visuallyHiddenLabel(outcomeId, `Outcome for recovery item: ${item.reason}`), outcome, close);
  actions.append(box, followUpForm(item));

  row.append(reason, ownerCell, due, status, actions);
  return row;
}

function followUpText(mail) {
  const to = `E-mailed ${mail.to_address} ${dateTime(mail.created_at)}`;
  if (mail.status === "sent") return `${to}: sent`;
  if (mail.status === "failed") return `${to}: not delivered (${mail.last_error || "given up"})`;
  return `${to}: waiting to be sent`;
}

/** "E-mail the customer": a message in the owner's words, sent from them; the item becomes contacted. */
function followUpForm(item) {
  const details = el("details", "follow-up");
  const summary = el("summary", "", "E-mail the customer");
  summary.dataset.testid = "recovery-follow-up-open";
  const messageId = `recovery-${item.id}-message`;
  const message = el("textarea");
  message.id = messageId;
  message.rows = 4;
  setMaxLength(message, "max_description_chars");
  message.dataset.testid = "recovery-message";
  message.dataset.role = "message";
  const send = button("Send e-mail", "primary", "recovery-send");
  send.dataset.role = "send";
  send.addEventListener("click", () => {
    const text = message.value.trim();
    if (!text) {
      showStatus("Write the message to the customer first.", "error");
      message.focus();
      return;
    }
    sendFollowUp(item, text);
  });
  details.append(summary, el("label", "", "Your message (sent from you, by e-mail)"), message, send);
  details.querySelector("label").htmlFor = messageId;
  return details;
}

async function sendFollowUp(item, text) {
  const row = recoveryRowOf(item.id);
  setRowBusy(row, true);
  let updated;
  try {
    updated = await api(`/api/v1/recovery-items/${encodeURIComponent(item.id)}/follow-up`,
      { method: "POST", json: { message: text } });
  } catch (error) {
    setRowBusy(row, false);
    handleError(error);
    return;
  }
  replaceRow(item, updated, row, "contacted");
  showStatus("E-mail to the customer written; the outbox sends it shortly (see below the reason).");
}

function recoveryRowOf(id) {
  return Array.from($("recovery-body").children).find((row) => row.dataset.id === String(id)) || null;
}

async function patchRecovery(item, body, done, focusRole) {
  const row = recoveryRowOf(item.id);
  setRowBusy(row, true);
  let updated;
  try {
    updated = await api(`/api/v1/recovery-items/${encodeURIComponent(item.id)}`, { method: "PATCH", json: body });
  } catch (error) {
    setRowBusy(row, false);
    if (row) {
      const select = row.querySelector("select");
      if (select && "owner_id" in body) {
        select.value = item.owner_id === null || item.owner_id === undefined ? "" : String(item.owner_id);
      }
    }
    handleError(error);
    return;
  }
  replaceRow(item, updated, row, focusRole);
  showStatus(done);
}

function replaceRow(item, updated, row, focusRole) {
  const index = state.recovery.findIndex((one) => one.id === item.id);
  if (updated.status === "closed") {
    if (index >= 0) state.recovery.splice(index, 1);
    if (row) row.remove();
    if (!state.recovery.length) $("recovery-body").replaceChildren(emptyRow(5, "No recovery item is open."));
    $("recovery-heading").focus();
  } else {
    if (index >= 0) state.recovery[index] = updated;
    const fresh = recoveryRow(updated);
    if (row) row.replaceWith(fresh);
    const target = fresh.querySelector(`[data-role="${focusRole}"]`);
    if (target && !target.disabled) target.focus();
    else fresh.querySelector("select")?.focus();
  }
}
