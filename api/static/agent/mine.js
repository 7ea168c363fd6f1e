/** The My chats list: the chats this agent holds, which have unread lines, and letting one go
 * when it is transferred or resolved. */
import { $, el } from "../staff/dom.js";
import { closeChat, openChat, renderChatHeader } from "./chat.js";
import { showStatus, state } from "./console.js";
import { customerLabel, reasonLabel } from "./format.js";
import { badges, rebuildKeepingFocus } from "./lists.js";

export function setMine(handoffs) {
  state.mine = handoffs;
  const ids = new Set(handoffs.map((h) => h.id));
  // A chat that was listed as mine and no longer is went to someone else (or back to the
  // queue). Only then is the open view closed: an update sent just before a claim may lack it.
  if (state.open && !ids.has(state.open.id) && state.seenInMine.has(state.open.id)) {
    showStatus(`The chat with ${customerLabel(state.open.handoff)} is no longer yours.`, "info");
    closeChat();
  }
  const fresh = state.open && handoffs.find((h) => h.id === state.open.id);
  if (fresh && state.open.handoff) {
    state.open.handoff = fresh; // e.g. a ticket_ref or priority that changed
    renderChatHeader(fresh);
  }
  for (const id of state.seenInMine) if (!ids.has(id)) state.seenInMine.delete(id);
  for (const id of ids) state.seenInMine.add(id);
  for (const id of state.unread) if (!ids.has(id)) state.unread.delete(id);
  renderMine();
}

function mineItem(handoff) {
  const item = el("li");
  const button = el("button", "item mine-item");
  button.type = "button";
  button.dataset.testid = "mine-item";
  button.dataset.handoffId = String(handoff.id);
  const isOpen = state.open && state.open.id === handoff.id;
  if (isOpen) button.setAttribute("aria-current", "true");

  const top = el("span", "item-top");
  top.appendChild(el("strong", "item-name", customerLabel(handoff)));
  if (state.unread.has(handoff.id)) top.appendChild(el("span", "unread", "new"));
  button.appendChild(top);
  const meta = el("span", "item-meta");
  meta.append(el("span", "reason", reasonLabel(handoff.reason)), badges(handoff));
  button.appendChild(meta);
  button.addEventListener("click", () => openChat(handoff.id));
  item.appendChild(button);
  return item;
}

export function renderMine() {
  rebuildKeepingFocus($("mine-list"), state.mine.map(mineItem));
  $("mine-count").textContent = state.mine.length ? `(${state.mine.length})` : "";
  $("mine-empty").hidden = state.mine.length > 0;
}

/** The chat is no longer ours (transferred or resolved): out of My chats and off the screen. */
export function leaveChat(handoffId) {
  state.seenInMine.delete(handoffId);
  if (state.open && state.open.id === handoffId) closeChat();
  setMine(state.mine.filter((h) => h.id !== handoffId));
}
