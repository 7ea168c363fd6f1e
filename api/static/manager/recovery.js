/** Open service-recovery items (an unhappy survey or a complaint): their owner, marking one
 * contacted, and closing it with an outcome. */
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
  actions.append(box);

  row.append(reason, ownerCell, due, status, actions);
  return row;
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
  showStatus(done);
}
