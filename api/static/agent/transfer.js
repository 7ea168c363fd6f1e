/** Handing the open chat to a colleague: who can take it, and the transfer itself. */
import { $, option } from "../staff/dom.js";
import { api, attempt, session, showStatus, state } from "./console.js";
import { leaveChat } from "./mine.js";

let colleagues = []; // who a chat can be transferred to

export async function loadAgents() {
  const select = $("transfer-select");
  const agents = await attempt(() => api("/api/v1/agents"));
  colleagues = (agents || []).filter((a) => !session.me || a.id !== session.me.id);
  select.replaceChildren(...colleagues.map((a) => {
    const chats = a.live_chats === 1 ? "1 chat" : `${a.live_chats} chats`;
    return option(String(a.id), `${a.name} — ${a.presence}, ${chats}`);
  }));
  if (!colleagues.length) select.appendChild(option("", "No colleagues available"));
  $("transfer").disabled = colleagues.length === 0;
}

export async function transferChat() {
  const open = state.open;
  const select = $("transfer-select");
  if (!open || !select.value) return;
  const target = colleagues.find((a) => String(a.id) === select.value);
  const done = await attempt(() => api(`/api/v1/handoffs/${open.id}/transfer`, {
    method: "POST", json: { agent_id: Number(select.value) },
  }));
  if (!done) return;
  leaveChat(open.id);
  showStatus(`Transferred to ${target ? target.name : "your colleague"}.`);
}
