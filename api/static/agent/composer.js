/** Writing to the customer: sending a reply, canned replies (chips, and "/shortcut" then Tab),
 * and telling the customer the agent is typing. */
import { $, button } from "../staff/dom.js";
import { addLine } from "./chat.js";
import { api, showError, state } from "./console.js";
import { sendFrame } from "./live.js";

const TYPING_EVERY_MS = 3000; // at most one "typing: true" frame this often
const TYPING_IDLE_MS = 4000; // "typing: false" this long after the last keystroke

let typingSentAt = 0; // when "typing: true" was last sent; 0 while not typing
let typingIdleTimer = null;
let typingHandoff = null;

export async function sendReply() {
  const open = state.open;
  const input = $("chat-input");
  const text = input.value;
  if (!open || !text.trim()) return;
  const send = $("chat-send");
  send.disabled = true;
  stopTyping();
  try {
    const line = await api(`/api/v1/handoffs/${open.id}/messages`, { method: "POST", json: { text } });
    if (state.open === open) {
      input.value = "";
      addLine(line);
    }
  } catch (error) {
    if (error.status !== 401) showError(error); // the text stays in the box
  } finally {
    send.disabled = false;
    input.focus();
  }
}

export async function loadCanned() {
  // Optional: a server without canned replies simply shows none.
  const replies = await api("/api/v1/canned-replies").catch(() => []);
  state.canned = Array.isArray(replies) ? replies : [];
  const list = $("canned-list");
  list.replaceChildren(...state.canned.map((reply) => {
    const chip = button(reply.title || reply.shortcut, "canned", "canned");
    chip.title = `${reply.shortcut} — ${reply.text}`;
    chip.addEventListener("click", () => insertIntoComposer(reply.text));
    return chip;
  }));
  list.hidden = state.canned.length === 0;
}

function insertIntoComposer(text) {
  const input = $("chat-input");
  input.focus();
  input.setRangeText(text, input.selectionStart, input.selectionEnd, "end");
}

/** "/hello" alone in the composer, then Tab or Enter: the canned text replaces it. */
function expandShortcut() {
  const input = $("chat-input");
  const typed = input.value.trim();
  if (!typed.startsWith("/")) return false;
  const reply = state.canned.find((r) => r.shortcut === typed);
  if (!reply) return false;
  input.value = reply.text;
  input.setSelectionRange(reply.text.length, reply.text.length);
  return true;
}

export function onComposerKey(event) {
  if (event.shiftKey || event.isComposing || (event.key !== "Enter" && event.key !== "Tab")) return;
  if (expandShortcut()) {
    event.preventDefault();
  } else if (event.key === "Enter") {
    event.preventDefault();
    sendReply();
  }
}

export function onComposerInput() {
  if (!state.open) return;
  const now = Date.now();
  if (now - typingSentAt >= TYPING_EVERY_MS || typingHandoff !== state.open.id) {
    typingHandoff = state.open.id;
    sendFrame({ type: "typing", handoff_id: typingHandoff, typing: true });
    typingSentAt = now;
  }
  clearTimeout(typingIdleTimer);
  typingIdleTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
}

export function stopTyping() {
  clearTimeout(typingIdleTimer);
  if (typingSentAt) sendFrame({ type: "typing", handoff_id: typingHandoff, typing: false });
  typingSentAt = 0;
}
