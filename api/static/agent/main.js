/** The agent console (/agent): signs the agent in, sets their presence, and wires the page's
 * parts together. Live updates come over the agent socket; while it is down the lists are
 * polled. Every text from the server or a person is shown with textContent, never as HTML. */
import { applyPageConfig } from "../staff/config.js";
import { $ } from "../staff/dom.js";
import { startBotChats, stopBotChats } from "./bots.js";
import { closeChat } from "./chat.js";
import { loadCanned, onComposerInput, onComposerKey, sendReply } from "./composer.js";
import { api, attempt, session, signIn, state } from "./console.js";
import { connectSocket, poll, stopLive } from "./live.js";
import { renderMine } from "./mine.js";
import { addNote } from "./notes.js";
import { renderQueue, startTicking, stopTicking } from "./queue.js";
import { resolveChat, syncResolveStatus } from "./resolve.js";
import { createTicket, loadCategories } from "./tickets.js";
import { transferChat } from "./transfer.js";

async function setPresence(presence) {
  const me = await attempt(() => api("/api/v1/auth/me/presence", { method: "PUT", json: { presence } }));
  if (me) session.me = me;
  $("presence").value = session.me.presence === "away" ? "away" : "online";
}

async function startConsole(me, freshLogin) {
  $("agent-name").textContent = me.name;
  $("login-view").hidden = true;
  $("app-view").hidden = false;
  // A new sign-in means "I am here"; a reload keeps a chosen "away", but not "offline".
  if (freshLogin || me.presence === "offline") await setPresence("online");
  else $("presence").value = me.presence;
  startTicking();
  startBotChats();
  loadCanned();
  loadCategories();
  poll(); // fill the lists at once; the socket keeps them current
  connectSocket();
}

/** Signed out: no socket or timers, no chat open, empty lists. */
function reset() {
  stopLive();
  stopTicking();
  stopBotChats();
  closeChat();
  Object.assign(state, { queue: [], mine: [], canned: [] });
  state.seenInMine.clear();
  state.unread.clear();
  renderQueue();
  renderMine();
  $("reconnecting").hidden = true;
}

/** Offline first, so customers are not promised a person who has gone. */
async function goOffline() {
  await api("/api/v1/auth/me/presence", { method: "PUT", json: { presence: "offline" } }).catch(() => {});
}

function bindEvents() {
  $("presence").addEventListener("change", (event) => setPresence(event.target.value));
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    sendReply();
  });
  $("chat-input").addEventListener("keydown", onComposerKey);
  $("chat-input").addEventListener("input", onComposerInput);
  $("note-add").addEventListener("click", addNote);
  $("transfer").addEventListener("click", transferChat);
  $("ticket-form").addEventListener("submit", createTicket);
  $("resolve-ticket").addEventListener("change", syncResolveStatus);
  $("resolve").addEventListener("click", resolveChat);
}

// The company's name in the title, and the longest reply and ticket description, from the server.
// Private notes are held to the chat line limit too (the server checks both the same way).
applyPageConfig({
  "chat-input": "max_message_chars", "note-input": "max_message_chars", "ticket-description": "max_description_chars",
});
bindEvents();
signIn.boot({ start: startConsole, reset, beforeSignOut: goOffline });
