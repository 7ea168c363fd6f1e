/** Finishing the open chat: resolving it, optionally with a linked ticket and its new status. */
import { $ } from "../staff/dom.js";
import { api, attempt, showStatus, state } from "./console.js";
import { customerLabel } from "./format.js";
import { leaveChat } from "./mine.js";

/** A ticket status can be set only when a ticket is linked. */
export function syncResolveStatus() {
  const status = $("resolve-status");
  status.disabled = !$("resolve-ticket").value;
  if (status.disabled) status.value = "";
}

export async function resolveChat() {
  const open = state.open;
  if (!open) return;
  const body = {};
  const ref = $("resolve-ticket").value;
  const ticketStatus = $("resolve-status").value;
  if (ref) body.ticket_ref = ref;
  if (ref && ticketStatus) body.ticket_status = ticketStatus;
  const button = $("resolve");
  button.disabled = true;
  const done = await attempt(() => api(`/api/v1/handoffs/${open.id}/resolve`, { method: "POST", json: body }));
  button.disabled = false;
  if (!done) return;
  const name = customerLabel(open.handoff);
  leaveChat(open.id);
  showStatus(`Chat with ${name} resolved.`);
}
