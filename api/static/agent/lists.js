/** What the console's three chat lists (Waiting, My chats, With the bot) share: a chat's badges,
 * and rebuilding a list without losing the keyboard focus. */
import { el } from "../staff/dom.js";

export function badges(handoff) {
  const box = el("span", "badges");
  if (handoff.priority) {
    const badge = el("span", `badge prio-${handoff.priority}`, handoff.priority);
    badge.title = "Priority";
    box.appendChild(badge);
  }
  if (handoff.ticket_ref) box.appendChild(el("span", "badge ticket", handoff.ticket_ref));
  return box;
}

/** Rebuilding a list loses focus; put it back on the same control of the same handoff. */
export function rebuildKeepingFocus(list, items) {
  const active = document.activeElement;
  const holder = active && list.contains(active) ? active.closest("[data-handoff-id]") : null;
  const focusId = holder && holder.dataset.handoffId;
  const focusTestid = active && active.dataset ? active.dataset.testid : null;
  list.replaceChildren(...items);
  if (!focusId) return;
  const again = list.querySelector(`[data-handoff-id="${CSS.escape(focusId)}"]`);
  if (!again) return;
  const target = again.dataset.testid === focusTestid ? again : again.querySelector(`[data-testid="${focusTestid}"]`);
  if (target) target.focus();
}
