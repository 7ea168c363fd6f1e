/** Small pieces the dashboard's tables and lists share: badges, hidden labels, an empty row,
 * the owner picker, and a row's controls held while its change is saved. */
import { el, option } from "../staff/dom.js";
import { state } from "./dashboard.js";

export function visuallyHiddenLabel(forId, text) {
  const label = el("label", "visually-hidden", text);
  label.htmlFor = forId;
  return label;
}

export function badge(text, extra) {
  return el("span", extra ? `badge ${extra}` : "badge", text);
}

export function emptyRow(columns, text) {
  const row = el("tr", "empty-row");
  const cell = el("td", "empty", text);
  cell.colSpan = columns;
  row.append(cell);
  return row;
}

/** A labelled select of the active staff (and the current owner, even if inactive or unknown). */
export function ownerSelect(id, ownerId, ownerName, labelText) {
  const wrap = document.createDocumentFragment();
  const select = el("select", "owner-select");
  select.id = id;
  select.append(option("", "No owner"));
  let found = false;
  for (const user of state.users) {
    if (user.active === false && user.id !== ownerId) continue;
    select.append(option(String(user.id), user.name));
    if (user.id === ownerId) found = true;
  }
  if (ownerId !== null && ownerId !== undefined && !found) {
    select.append(option(String(ownerId), ownerName || `Staff #${ownerId}`));
  }
  select.value = ownerId === null || ownerId === undefined ? "" : String(ownerId);
  wrap.append(visuallyHiddenLabel(id, labelText), select);
  return { fragment: wrap, select };
}

export function setRowBusy(row, busy) {
  if (!row) return;
  row.setAttribute("aria-busy", String(busy));
  for (const control of row.querySelectorAll("button, select, input, textarea")) {
    if (busy) {
      control.dataset.wasDisabled = String(control.disabled);
      control.disabled = true;
    } else {
      control.disabled = control.dataset.wasDisabled === "true";
      delete control.dataset.wasDisabled;
    }
  }
}
