/** The "With the bot" list: chats the bot is handling (refreshed every few seconds), which an
 * agent may join unasked. */
import { $, button, el } from "../staff/dom.js";
import { openChat } from "./chat.js";
import { api, session, showStatus, state } from "./console.js";
import { rebuildKeepingFocus } from "./lists.js";
import { setMine } from "./mine.js";

const BOT_CHATS_EVERY_MS = 10000;
let botChatsTimer = null;

export function startBotChats() {
  loadBotChats();
  botChatsTimer = setInterval(loadBotChats, BOT_CHATS_EVERY_MS);
}

export function stopBotChats() {
  clearInterval(botChatsTimer);
}

async function loadBotChats() {
  if (!session.me) return;
  const chats = await api("/api/v1/conversations").catch(() => null);
  if (!Array.isArray(chats) || !session.me) return;
  rebuildKeepingFocus($("bot-list"), chats.map(botChatItem));
  $("bot-empty").hidden = chats.length > 0;
}

function botChatItem(chat) {
  const item = el("li", "item");
  item.dataset.testid = "bot-chat";
  item.dataset.handoffId = chat.id; // lets rebuildKeepingFocus find the same row again
  const top = el("div", "item-top");
  top.appendChild(el("strong", "item-name", chat.customer_name || chat.customer_email || "Anonymous"));
  item.appendChild(top);
  if (chat.last_customer_line) item.appendChild(el("div", "item-sub", chat.last_customer_line));
  const join = button("Join", "claim", "join");
  join.setAttribute("aria-label", `Join the chat with ${chat.customer_name || "this customer"}`);
  join.addEventListener("click", () => joinChat(chat.id, join));
  item.appendChild(join);
  return item;
}

async function joinChat(conversationId, joinButton) {
  joinButton.disabled = true;
  try {
    const handoff = await api(`/api/v1/conversations/${encodeURIComponent(conversationId)}/join`, { method: "POST" });
    if (!state.mine.some((h) => h.id === handoff.id)) setMine([...state.mine, handoff]);
    openChat(handoff.id);
    loadBotChats();
  } catch (error) {
    if (error.status !== 401) showStatus(error.message, "error");
    joinButton.disabled = false;
  }
}
