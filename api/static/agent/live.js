/** Live updates: the agent socket (/api/v1/agent/ws, authenticated by the sign-in cookie),
 * reconnecting with a growing backoff, and polling the lists while it is down. */
import { $ } from "../staff/dom.js";
import { onChatMessage, onCustomerTyping, refreshOpenChat } from "./chat.js";
import { api, session, showStatus, state } from "./console.js";
import { setMine } from "./mine.js";
import { setQueue } from "./queue.js";

const PING_MS = 20000;
const POLL_MS = 5000;
const BACKOFF_MAX_MS = 15000;

let socket = null;
let backoffMs = 1000;
let reconnectTimer = null;
let pingTimer = null;
let pollTimer = null;

export function connectSocket() {
  if (socket || !session.me) return;
  const url = new URL("/api/v1/agent/ws", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  // The HttpOnly sign-in cookie authenticates the socket: a token in the URL would end up in logs.
  const ws = new WebSocket(url.toString());
  socket = ws;
  ws.addEventListener("open", () => {
    backoffMs = 1000;
    setConnected(true);
    pingTimer = setInterval(() => sendFrame({ type: "ping" }), PING_MS);
  });
  // Lines written between the last poll and this connection come only from the database. The
  // socket pushes the lines after the newest one when it sent its first "mine" frame, so the open
  // chat is read after that frame: read at "open", a line stored in between would never be shown.
  let caughtUp = false;
  ws.addEventListener("message", (event) => {
    let frame;
    try { frame = JSON.parse(event.data); } catch { return; }
    handleFrame(frame);
    if (frame.type === "mine" && !caughtUp && socket === ws) {
      caughtUp = true;
      if (state.open) refreshOpenChat().catch(() => {});
    }
  });
  ws.addEventListener("close", (event) => {
    if (socket !== ws) return; // one we closed on purpose
    socket = null;
    clearInterval(pingTimer);
    setConnected(false);
    if (event.code === 4401 || event.code === 1008) {
      // Perhaps the sign-in expired: this call brings back the login view if so.
      api("/api/v1/auth/me").catch(() => {});
    }
    clearTimeout(reconnectTimer);
    reconnectTimer = setTimeout(connectSocket, backoffMs);
    backoffMs = Math.min(backoffMs * 2, BACKOFF_MAX_MS);
  });
}

function setConnected(connected) {
  $("reconnecting").hidden = connected;
  clearInterval(pollTimer);
  pollTimer = null;
  if (!connected) {
    poll();
    pollTimer = setInterval(poll, POLL_MS);
  }
}

export function stopLive() {
  const ws = socket;
  socket = null;
  if (ws) ws.close();
  clearTimeout(reconnectTimer);
  clearInterval(pingTimer);
  clearInterval(pollTimer);
  pollTimer = null;
  backoffMs = 1000;
}

export function sendFrame(frame) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
}

function handleFrame(frame) {
  switch (frame.type) {
    case "queue": setQueue(frame.handoffs || []); break;
    case "mine": setMine(frame.handoffs || []); break;
    case "message": onChatMessage(frame.handoff_id, frame.message); break;
    case "typing": onCustomerTyping(frame.handoff_id, frame.typing); break;
    case "error": showStatus(String(frame.detail || "The server refused a frame."), "error"); break;
    default: break; // pong, or a frame this version does not know
  }
}

/** Both lists (and the open chat, while the socket is down) read afresh. */
export async function poll() {
  if (!session.me) return;
  try {
    const [queued, active] = await Promise.all([
      api("/api/v1/handoffs?status=queued"),
      api("/api/v1/handoffs?status=active"),
    ]);
    setQueue(queued);
    setMine(active.filter((handoff) => handoff.agent_id === session.me.id));
    if (state.open && !socket) await refreshOpenChat();
  } catch {
    // Still offline, or signed out (which api() has handled): the next tick tries again.
  }
}
