/** The open chat: opening and closing it, its header, the transcript (each line once, in id
 * order, as text), and the customer's "is typing". */
import { $, el } from "../staff/dom.js";
import { api, attempt, state } from "./console.js";
import { stopTyping } from "./composer.js";
import { clockTime, customerLabel, mmss, reasonLabel } from "./format.js";
import { renderMine } from "./mine.js";
import { renderNotes } from "./notes.js";
import { loadTickets } from "./tickets.js";
import { loadAgents } from "./transfer.js";

const TYPING_SHOWN_MS = 6000; // hide "customer is typing" if no "false" frame comes
let customerTypingTimer = null;

export async function openChat(handoffId) {
  if (state.open && state.open.id === handoffId) {
    $("chat-input").focus();
    return;
  }
  closeChat();
  const open = { id: handoffId, handoff: null, rendered: new Set(), tickets: [] };
  state.open = open;
  state.unread.delete(handoffId);
  renderMine();
  const detail = await attempt(() => api(`/api/v1/handoffs/${handoffId}`));
  if (state.open !== open) return; // another chat was opened meanwhile
  if (!detail) {
    closeChat();
    return;
  }
  open.handoff = detail.handoff;
  renderChatHeader(detail.handoff);
  for (const line of detail.transcript) addLine(line);
  renderNotes(detail.notes);
  $("ticket-description").value = customerWords();
  $("chat-none").hidden = true;
  $("chat-view").hidden = false;
  $("side").hidden = false;
  scrollLog(true);
  $("chat-input").focus();
  loadAgents();
  loadTickets(open);
}

export function closeChat() {
  stopTyping();
  clearTimeout(customerTypingTimer);
  state.open = null;
  $("chat-log").replaceChildren();
  $("notes-list").replaceChildren();
  $("ticket-list").replaceChildren();
  $("chat-typing").textContent = "";
  $("chat-input").value = "";
  $("note-input").value = "";
  $("ticket-new").open = false;
  $("chat-view").hidden = true;
  $("side").hidden = true;
  $("chat-none").hidden = false;
  renderMine();
}

/** While the socket is down (or just back): read what is new in the open chat. */
export async function refreshOpenChat() {
  const open = state.open;
  const detail = await api(`/api/v1/handoffs/${open.id}`);
  if (state.open !== open) return;
  open.handoff = detail.handoff;
  renderChatHeader(detail.handoff);
  for (const line of detail.transcript) addLine(line);
  renderNotes(detail.notes);
}

export function renderChatHeader(handoff) {
  $("chat-title").textContent = customerLabel(handoff);
  const parts = [];
  if (handoff.customer_name && handoff.customer_email) parts.push(handoff.customer_email);
  parts.push(reasonLabel(handoff.reason));
  if (handoff.priority) parts.push(`priority ${handoff.priority}`);
  if (handoff.ticket_ref) parts.push(`ticket ${handoff.ticket_ref}`);
  parts.push(`waited ${mmss(handoff.wait_seconds)}`);
  $("chat-meta").textContent = parts.join(" · ");
}

function senderLabel(message) {
  switch (message.sender) {
    case "customer": return (state.open && state.open.handoff && state.open.handoff.customer_name) || "Customer";
    case "bot": return "Bot";
    case "agent": return message.agent_name || "Agent";
    default: return "System";
  }
}

function lineNode(message) {
  const line = el("div", "line");
  line.dataset.sender = message.sender;
  line.dataset.id = String(message.id);
  const meta = el("div", "line-meta");
  meta.appendChild(el("span", "who", senderLabel(message)));
  const time = el("time", "when", clockTime(message.created_at));
  time.dateTime = message.created_at;
  meta.appendChild(time);
  line.append(meta, el("div", "line-text", message.text));
  if (message.buttons && message.buttons.length) {
    const offered = el("div", "line-buttons");
    offered.appendChild(el("span", "offered", "Offered:"));
    for (const button of message.buttons) offered.appendChild(el("span", "chip", button.title));
    line.appendChild(offered);
  }
  return line;
}

/** Add one transcript line, once, in id order. */
export function addLine(message) {
  const open = state.open;
  if (!open || !message || open.rendered.has(message.id)) return;
  open.rendered.add(message.id);
  const log = $("chat-log");
  const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  const later = Array.from(log.children).find((node) => Number(node.dataset.id) > message.id);
  log.insertBefore(lineNode(message), later || null);
  scrollLog(nearBottom || message.sender === "agent");
}

function scrollLog(force) {
  const log = $("chat-log");
  if (force) log.scrollTop = log.scrollHeight;
}

/** What the customer wrote, one line each: the new ticket's description to start from. */
function customerWords() {
  return Array.from($("chat-log").querySelectorAll('.line[data-sender="customer"] .line-text'))
    .map((node) => node.textContent).join("\n");
}

/** A line pushed over the socket: into the open chat, or an unread mark on one of mine. */
export function onChatMessage(handoffId, message) {
  if (state.open && state.open.id === handoffId) {
    addLine(message);
    if (message && message.sender === "customer") showCustomerTyping(false);
  } else if (state.mine.some((h) => h.id === handoffId)) {
    state.unread.add(handoffId);
    renderMine();
  }
}

export function onCustomerTyping(handoffId, typing) {
  if (state.open && state.open.id === handoffId) showCustomerTyping(typing);
}

function showCustomerTyping(typing) {
  clearTimeout(customerTypingTimer);
  $("chat-typing").textContent = typing ? "Customer is typing…" : "";
  if (typing) customerTypingTimer = setTimeout(() => showCustomerTyping(false), TYPING_SHOWN_MS);
}
