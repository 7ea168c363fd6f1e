/* Brightside support chat widget.
 *
 * Embed with one tag:
 *   <script src="https://support.example.com/static/widget.js" defer
 *           data-api="https://support.example.com" data-title="Chat with us"></script>
 *
 * Everything the server or the customer wrote is shown with textContent, never parsed as HTML.
 * Exposes window.SupportWidget = {open(), close()} for the host page.
 */
(() => {
  "use strict";

  if (window.SupportWidget) return; // the tag was included twice

  const script = document.currentScript ||
    Array.from(document.scripts).find((s) => /\/widget\.js(\?|#|$)/.test(s.src));
  const scriptOrigin = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  const API = ((script && script.dataset.api) || scriptOrigin).replace(/\/+$/, "");
  const TITLE = (script && script.dataset.title) || "Chat with us";
  const STORE_KEY = "support-widget:" + API;
  const POLL_MS = 3000;
  const BACKOFF_MAX_MS = 15000;
  const TYPING_EVERY_MS = 3000; // at most one "typing: true" frame this often
  const TYPING_IDLE_MS = 4000; // "typing: false" this long after the last keystroke
  const TYPING_SHOWN_MS = 6000; // hide the agent's "is typing" if no "false" frame comes

  const CSS = `
#support-widget { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000;
  font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #1d2433; }
#support-widget *, #support-widget *::before, #support-widget *::after { box-sizing: border-box; }
#support-widget [hidden] { display: none !important; }
#support-widget button, #support-widget textarea { font: inherit; }
#support-widget :focus-visible { outline: 3px solid #f0a500; outline-offset: 2px; }
.sw-launcher { display: flex; align-items: center; gap: 8px; margin-left: auto; padding: 12px 18px;
  border: 0; border-radius: 999px; background: #1f5f8b; color: #fff; font-weight: 600; cursor: pointer;
  box-shadow: 0 4px 14px rgba(0, 0, 0, .25); position: relative; }
.sw-launcher:hover { background: #174a6d; }
.sw-launcher::before { content: ""; width: 18px; height: 14px; border-radius: 4px; background: #fff;
  clip-path: polygon(0 0, 100% 0, 100% 75%, 40% 75%, 15% 100%, 20% 75%, 0 75%); }
.sw-unread::after { content: ""; position: absolute; top: 2px; right: 2px; width: 12px; height: 12px;
  border-radius: 50%; background: #d93b3b; border: 2px solid #fff; }
.sw-panel { position: absolute; right: 0; bottom: 64px; width: min(370px, calc(100vw - 40px));
  height: min(560px, calc(100vh - 110px)); display: flex; flex-direction: column; background: #fff;
  border-radius: 12px; overflow: hidden; box-shadow: 0 10px 36px rgba(0, 0, 0, .28); }
.sw-header { display: flex; align-items: center; justify-content: space-between; gap: 8px;
  padding: 12px 14px; background: #1f5f8b; color: #fff; }
.sw-title { margin: 0; font-size: 16px; font-weight: 600; }
.sw-close { border: 0; background: transparent; color: #fff; font-size: 22px; line-height: 1;
  width: 32px; height: 32px; border-radius: 6px; cursor: pointer; }
.sw-close:hover { background: rgba(255, 255, 255, .15); }
.sw-log { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 8px;
  background: #f5f7fa; }
.sw-line { max-width: 85%; padding: 8px 11px; border-radius: 12px; white-space: pre-wrap;
  overflow-wrap: anywhere; background: #fff; border: 1px solid #dde3ea; align-self: flex-start; }
.sw-line[data-sender="customer"] { align-self: flex-end; background: #1f5f8b; color: #fff; border-color: #1f5f8b; }
.sw-line[data-sender="agent"] { background: #e7f3ec; border-color: #b9dcc6; }
.sw-line[data-sender="system"] { align-self: center; max-width: 95%; background: transparent; border: 0;
  color: #566174; font-size: 13px; text-align: center; }
.sw-agent-name { display: block; font-size: 12px; font-weight: 600; color: #2d6a45; margin-bottom: 2px; }
.sw-buttons { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 8px; white-space: normal; }
.sw-button { padding: 5px 10px; border: 1px solid #1f5f8b; border-radius: 999px; background: #fff;
  color: #1f5f8b; cursor: pointer; font-size: 14px; }
.sw-button:hover:not(:disabled) { background: #e8f0f6; }
.sw-button:disabled { opacity: .5; cursor: default; }
.sw-status { min-height: 1.4em; padding: 2px 12px; font-size: 13px; color: #566174; background: #f5f7fa; }
.sw-actions { display: flex; gap: 8px; padding: 0 12px 6px; background: #f5f7fa; }
.sw-secondary { padding: 5px 10px; border: 1px solid #8895a7; border-radius: 6px; background: #fff;
  color: #1d2433; cursor: pointer; font-size: 13px; }
.sw-form { display: flex; gap: 8px; padding: 10px 12px; border-top: 1px solid #dde3ea; background: #fff; }
.sw-input { flex: 1; resize: none; height: 44px; max-height: 120px; padding: 10px; border: 1px solid #b8c2cf;
  border-radius: 8px; color: #1d2433; background: #fff; }
.sw-send { padding: 0 16px; border: 0; border-radius: 8px; background: #1f5f8b; color: #fff;
  font-weight: 600; cursor: pointer; }
.sw-send:disabled { opacity: .55; cursor: default; }
`;

  /* ---------- small helpers ---------- */

  function el(tag, className, attrs = {}) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
    return node;
  }

  class ApiError extends Error {
    constructor(status, detail) {
      super(detail);
      this.status = status;
    }
  }

  /** FastAPI's `detail` is a string, or for 422 a list of {msg}; make it one readable line. */
  function detailText(data, status) {
    const detail = data && data.detail;
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) {
      return detail.map((d) => String((d && d.msg) || "").replace(/^Value error, /, "")).filter(Boolean).join("; ");
    }
    if (status === 429) return "You are sending messages too quickly; please wait a moment.";
    return `Something went wrong (${status}). Please try again.`;
  }

  async function api(path, { method = "GET", body } = {}) {
    const headers = {};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (session) headers.Authorization = "Bearer " + session.token;
    const response = await fetch(API + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try { data = await response.json(); } catch { /* an empty or non-JSON body */ }
    if (!response.ok) throw new ApiError(response.status, detailText(data, response.status));
    return data;
  }

  function networkText(error) {
    return error instanceof ApiError ? error.message : "We can't reach our support service right now. Please try again.";
  }

  /* ---------- the stored session ---------- */

  let session = null; // {session_id, token, lastId}

  function loadSession() {
    try {
      const stored = JSON.parse(localStorage.getItem(STORE_KEY) || "null");
      if (stored && typeof stored.session_id === "string" && typeof stored.token === "string") {
        return { session_id: stored.session_id, token: stored.token, lastId: Number(stored.lastId) || 0 };
      }
    } catch { /* storage blocked or corrupt: start fresh */ }
    return null;
  }

  function saveSession() {
    try {
      if (session) localStorage.setItem(STORE_KEY, JSON.stringify(session));
      else localStorage.removeItem(STORE_KEY);
    } catch { /* storage blocked: the chat still works until the page is left */ }
  }

  function sessionPath(suffix) {
    return `/api/v1/chat/sessions/${encodeURIComponent(session.session_id)}${suffix}`;
  }

  /* ---------- DOM ---------- */

  const ui = {};

  function buildDom() {
    const style = el("style", "sw-style");
    style.textContent = CSS;
    document.head.appendChild(style);

    const root = el("div", "sw-root", { id: "support-widget" });
    ui.root = root;
    ui.launcher = el("button", "sw-launcher", {
      type: "button", "data-testid": "widget-open", "aria-expanded": "false", "aria-controls": "sw-panel",
    });
    ui.launcher.textContent = TITLE;

    ui.panel = el("div", "sw-panel", { id: "sw-panel", role: "dialog", "aria-label": TITLE });
    ui.panel.hidden = true;

    const header = el("div", "sw-header");
    const title = el("h2", "sw-title");
    title.textContent = TITLE;
    ui.close = el("button", "sw-close", { type: "button", "aria-label": "Close chat" });
    ui.close.textContent = "×";
    header.append(title, ui.close);

    ui.log = el("div", "sw-log", {
      "data-testid": "widget-log", role: "log", "aria-live": "polite", "aria-relevant": "additions",
      "aria-label": "Conversation",
    });
    ui.status = el("div", "sw-status", { "data-testid": "widget-status", "aria-live": "polite" });

    const actions = el("div", "sw-actions");
    ui.cancel = el("button", "sw-secondary", { type: "button", "data-testid": "widget-cancel" });
    ui.cancel.textContent = "Leave the queue";
    ui.cancel.hidden = true;
    ui.restart = el("button", "sw-secondary", { type: "button", "data-testid": "widget-restart" });
    ui.restart.textContent = "Start a new chat";
    ui.restart.hidden = true;
    ui.end = el("button", "sw-secondary", { type: "button", "data-testid": "widget-end" });
    ui.end.textContent = "End chat";
    ui.end.hidden = true;
    actions.append(ui.cancel, ui.end, ui.restart);

    ui.form = el("form", "sw-form");
    ui.input = el("textarea", "sw-input", {
      "data-testid": "widget-input", "aria-label": "Your message", placeholder: "Type your message…", rows: "1",
    });
    ui.send = el("button", "sw-send", { type: "submit", "data-testid": "widget-send" });
    ui.send.textContent = "Send";
    ui.form.append(ui.input, ui.send);

    ui.panel.append(header, ui.log, ui.status, actions, ui.form);
    root.append(ui.panel, ui.launcher);
    document.body.appendChild(root);
  }

  /* ---------- status line: a note (an error, until the next send) wins over the agent's
   * typing, which wins over the lasting queue position ---------- */

  const status = { queue: "", typing: "", note: "" };
  let typingShownTimer = null;

  function renderStatus() {
    ui.status.textContent = status.note || status.typing || status.queue;
  }

  function setNote(text) {
    status.note = text;
    renderStatus();
  }

  /* ---------- the transcript ---------- */

  const rendered = new Set(); // message ids already in the log

  function lineNode(message) {
    const line = el("div", "sw-line", { "data-sender": message.sender, "data-id": String(message.id) });
    if (message.sender === "agent" && message.agent_name) {
      const name = el("span", "sw-agent-name");
      name.textContent = message.agent_name;
      line.appendChild(name);
    }
    line.appendChild(document.createTextNode(message.text));
    const buttons = Array.isArray(message.buttons) ? message.buttons : [];
    if (message.sender === "bot" && buttons.length) {
      const group = el("div", "sw-buttons", { role: "group", "aria-label": "Suggested replies" });
      for (const button of buttons) {
        const node = el("button", "sw-button", { type: "button", "data-testid": "widget-button" });
        node.textContent = button.title;
        node.addEventListener("click", () => sendPayload(button.payload, group));
        group.appendChild(node);
      }
      line.appendChild(group);
    }
    return line;
  }

  /** Lines can arrive out of order (a POST reply before the socket's copy of the customer's own
   * line), so each is placed by id. */
  function renderMessage(message, fresh = true) {
    if (!message || rendered.has(message.id)) return;
    rendered.add(message.id);
    const line = lineNode(message);
    const later = Array.from(ui.log.children).find((node) => Number(node.dataset.id) > message.id);
    ui.log.insertBefore(line, later || null);
    enableLatestButtons();
    ui.log.scrollTop = ui.log.scrollHeight;
    if (fresh && ui.panel.hidden && message.sender !== "customer") ui.launcher.classList.add("sw-unread");
  }

  function renderMessages(messages) {
    for (const message of messages || []) renderMessage(message);
  }

  /** Only the newest bot line's buttons can be pressed: older ones answer questions no longer asked. */
  function enableLatestButtons() {
    const botLines = ui.log.querySelectorAll('.sw-line[data-sender="bot"]');
    const latest = botLines[botLines.length - 1];
    for (const group of ui.log.querySelectorAll(".sw-buttons")) {
      const enabled = group.parentElement === latest && !group.dataset.used;
      for (const button of group.children) button.disabled = !enabled;
    }
  }

  /** Record lines read from the ordered stream (socket or polling); only these move lastId,
   * because a POST reply may skip ids that the stream has not delivered yet. */
  function takeFromStream(messages) {
    if (!session) return;
    // Lines up to the stored lastId were seen before a reload: they do not light the unread dot.
    for (const message of messages || []) renderMessage(message, message.id > session.lastId);
    const newest = Math.max(session.lastId, ...(messages || []).map((m) => m.id));
    if (newest !== session.lastId) {
      session.lastId = newest;
      saveSession();
    }
  }

  /* ---------- conversation state ---------- */

  let chatState = "bot";

  function setState(state) {
    if (!state) return;
    chatState = state;
    ui.cancel.hidden = state !== "queued";
    ui.restart.hidden = state !== "closed";
    ui.end.hidden = !session || state === "closed";
    if (state !== "queued") status.queue = "";
    if (state === "closed") status.queue = "This chat has ended.";
    renderStatus();
  }

  function showQueue(frame) {
    let text = `You are number ${frame.position} in the queue`;
    if (frame.estimate_seconds != null) {
      text += ` (about ${Math.max(1, Math.round(frame.estimate_seconds / 60))} min)`;
    }
    status.queue = text;
    renderStatus();
  }

  function showAgentTyping(frame) {
    clearTimeout(typingShownTimer);
    status.typing = frame.typing ? `${frame.name || "Our agent"} is typing…` : "";
    renderStatus();
    if (frame.typing) {
      typingShownTimer = setTimeout(() => showAgentTyping({ typing: false }), TYPING_SHOWN_MS);
    }
  }

  /* ---------- live connection: WebSocket, with polling while it is down ---------- */

  let socket = null;
  let backoffMs = 1000;
  let reconnectTimer = null;
  let pollTimer = null;

  function socketUrl() {
    const url = new URL(API + sessionPath("/ws")); // API may carry a path prefix, so no base-URL resolution
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("token", session.token);
    url.searchParams.set("after", String(session.lastId));
    return url.toString();
  }

  function connect() {
    if (!session || socket) return;
    clearTimeout(reconnectTimer);
    let ws;
    try {
      ws = new WebSocket(socketUrl());
    } catch {
      scheduleReconnect();
      return;
    }
    socket = ws;
    ws.addEventListener("open", () => {
      backoffMs = 1000;
      stopPolling();
    });
    ws.addEventListener("message", (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch { return; }
      handleFrame(frame);
    });
    ws.addEventListener("close", (event) => {
      if (socket !== ws) return; // a socket we already let go of
      socket = null;
      if (event.code === 4401) {
        dropSession("This chat is no longer available. Send a message to start a new one.");
        return;
      }
      startPolling();
      scheduleReconnect();
    });
    // An "error" is always followed by "close", where reconnecting is handled.
  }

  function handleFrame(frame) {
    switch (frame.type) {
      case "message": takeFromStream([frame.message]); break;
      case "state": setState(frame.state); break;
      case "queue": showQueue(frame); break;
      case "typing": showAgentTyping(frame); break;
      case "error": setNote(String(frame.detail || "")); break;
      default: break; // a frame type this version does not know
    }
  }

  function scheduleReconnect() {
    clearTimeout(reconnectTimer);
    reconnectTimer = setTimeout(connect, backoffMs);
    backoffMs = Math.min(backoffMs * 2, BACKOFF_MAX_MS);
  }

  function startPolling() {
    if (pollTimer) return;
    pollTimer = setInterval(poll, POLL_MS);
  }

  function stopPolling() {
    clearInterval(pollTimer);
    pollTimer = null;
  }

  async function poll() {
    if (!session) return;
    try {
      const reply = await api(sessionPath(`/messages?after=${session.lastId}`));
      takeFromStream(reply.messages);
      setState(reply.state);
    } catch (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 404)) {
        dropSession("This chat is no longer available. Send a message to start a new one.");
      } // otherwise still offline: try again on the next tick
    }
  }

  function disconnect() {
    const ws = socket;
    socket = null;
    if (ws) ws.close();
    clearTimeout(reconnectTimer);
    stopPolling();
    backoffMs = 1000;
  }

  /* ---------- starting, restoring and dropping a session ---------- */

  let starting = null; // the promise of a session being created

  function clearTranscript() {
    rendered.clear();
    ui.log.replaceChildren();
    status.queue = "";
    status.typing = "";
    setNote("");
    setState("bot");
  }

  function dropSession(message) {
    disconnect();
    session = null;
    saveSession();
    stopTyping();
    ui.cancel.hidden = true;
    ui.restart.hidden = true;
    ui.end.hidden = true;
    status.queue = "";
    setNote(message || "");
  }

  /** The session, created (and greeted) first if there is none yet. */
  function ensureSession() {
    if (session) return Promise.resolve(session);
    if (!starting) {
      starting = startSession().finally(() => { starting = null; });
    }
    return starting;
  }

  async function startSession() {
    // The bot greets at once; the greeting comes back with the session (no customer line).
    const created = await api("/api/v1/chat/sessions", { method: "POST", body: { greet: true } });
    clearTranscript();
    session = { session_id: created.session_id, token: created.token, lastId: 0 };
    saveSession();
    connect();
    renderMessages(created.messages);
    setState(created.state);
    return session;
  }

  async function restoreSession() {
    try {
      const reply = await api(sessionPath("/messages"));
      takeFromStream(reply.messages);
      setState(reply.state);
    } catch (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 404)) {
        dropSession();
        return;
      }
      // Offline for now: the socket's reconnect and polling catch up later.
    }
    connect();
  }

  /* ---------- sending ---------- */

  let sending = false;

  function setSending(value) {
    sending = value;
    ui.send.disabled = value;
  }

  async function post(body) {
    if (chatState === "closed") startOver();
    await ensureSession();
    let reply;
    try {
      reply = await api(sessionPath("/messages"), { method: "POST", body });
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 409) throw error;
      startOver(); // the chat was closed (e.g. idle) while this page did not know: a new one
      await ensureSession();
      reply = await api(sessionPath("/messages"), { method: "POST", body });
    }
    renderMessages(reply.messages);
    setState(reply.state);
  }

  async function sendText() {
    const text = ui.input.value;
    if (sending || !text.trim()) return;
    setSending(true);
    stopTyping();
    setNote("");
    try {
      await post({ text });
      ui.input.value = "";
    } catch (error) {
      setNote(networkText(error)); // the typed text stays in the box
    } finally {
      setSending(false);
      ui.input.focus();
    }
  }

  async function sendPayload(payload, group) {
    if (sending) return;
    group.dataset.used = "1";
    for (const button of group.children) button.disabled = true;
    ui.input.focus(); // the pressed button is disabled now, which would drop focus to the page
    setSending(true);
    setNote("");
    try {
      await post({ payload });
    } catch (error) {
      delete group.dataset.used; // let them press it again
      enableLatestButtons();
      setNote(networkText(error));
    } finally {
      setSending(false);
    }
  }

  async function leaveQueue() {
    ui.cancel.disabled = true;
    try {
      const reply = await api(sessionPath("/handoff/cancel"), { method: "POST" });
      renderMessages(reply.messages);
      setState(reply.state);
    } catch (error) {
      setNote(networkText(error));
    } finally {
      ui.cancel.disabled = false;
    }
  }

  function startOver() {
    dropSession();
    clearTranscript();
    chatState = "bot";
  }

  async function endChat() {
    ui.end.disabled = true;
    try {
      const reply = await api(sessionPath("/close"), { method: "POST" });
      renderMessages(reply.messages);
      setState(reply.state);
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) setState("closed");
      else setNote(networkText(error));
    } finally {
      ui.end.disabled = false;
    }
  }

  async function restart() {
    startOver();
    try {
      await ensureSession();
    } catch (error) {
      setNote(networkText(error));
    }
    ui.input.focus();
  }

  /* ---------- the customer's typing, shown to the agent ---------- */

  let typingSentAt = 0; // when "typing: true" was last sent; 0 while not typing
  let typingIdleTimer = null;

  function sendFrame(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
  }

  function onInput() {
    const now = Date.now();
    if (now - typingSentAt >= TYPING_EVERY_MS) {
      sendFrame({ type: "typing", typing: true });
      typingSentAt = now;
    }
    clearTimeout(typingIdleTimer);
    typingIdleTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
  }

  function stopTyping() {
    clearTimeout(typingIdleTimer);
    if (typingSentAt) sendFrame({ type: "typing", typing: false });
    typingSentAt = 0;
  }

  /* ---------- opening and closing the panel ---------- */

  function open() {
    if (!ui.panel) return; // called before the page finished loading
    ui.panel.hidden = false;
    ui.launcher.setAttribute("aria-expanded", "true");
    ui.launcher.classList.remove("sw-unread");
    ui.log.scrollTop = ui.log.scrollHeight;
    ui.input.focus();
    if (!session) {
      ensureSession().catch((error) => setNote(networkText(error)));
    }
  }

  function close() {
    if (!ui.panel) return;
    ui.panel.hidden = true;
    ui.launcher.setAttribute("aria-expanded", "false");
    ui.launcher.focus();
  }

  function bindEvents() {
    ui.launcher.addEventListener("click", () => (ui.panel.hidden ? open() : close()));
    ui.close.addEventListener("click", close);
    ui.root.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !ui.panel.hidden) {
        event.preventDefault();
        close();
      }
    });
    ui.form.addEventListener("submit", (event) => {
      event.preventDefault();
      sendText();
    });
    ui.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        sendText();
      }
    });
    ui.input.addEventListener("input", onInput);
    ui.cancel.addEventListener("click", leaveQueue);
    ui.restart.addEventListener("click", restart);
    ui.end.addEventListener("click", endChat);
  }

  /** The longest line the server takes (GET /api/v1/config), asked once, as the input's
   * maxlength. Without an answer there is none here, and the server still refuses a longer line. */
  async function applyServerLimit() {
    try {
      const response = await fetch(API + "/api/v1/config");
      const config = response.ok ? await response.json() : null;
      const limit = config && config.max_message_chars;
      if (Number.isInteger(limit) && limit > 0) ui.input.maxLength = limit;
    } catch { /* offline or refused: no maxlength */ }
  }

  function init() {
    buildDom();
    bindEvents();
    applyServerLimit();
    session = loadSession();
    if (session) restoreSession();
  }

  window.SupportWidget = { open: () => open(), close: () => close() };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
