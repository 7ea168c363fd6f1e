/* Brightside agent console (served at /agent).
 *
 * Signs in with the OAuth2 password flow; the server sets an HttpOnly cookie and we also keep the
 * access token in sessionStorage for the Authorization header and the WebSocket's ?token=.
 * Live updates come over /api/v1/agent/ws; while it is down the lists are polled.
 * Every text from the server or a person is shown with textContent, never parsed as HTML.
 */
(() => {
  "use strict";

  const TOKEN_KEY = "support-console:token";
  const PING_MS = 20000;
  const POLL_MS = 5000;
  const BACKOFF_MAX_MS = 15000;
  const TYPING_EVERY_MS = 3000; // at most one "typing: true" frame this often
  const TYPING_IDLE_MS = 4000; // "typing: false" this long after the last keystroke
  const TYPING_SHOWN_MS = 6000; // hide "customer is typing" if no "false" frame comes
  const STATUS_MS = 8000; // how long a message stays in the status area
  const TICKET_STATUSES = ["new", "open", "pending", "resolved", "closed"];
  const PRIORITIES = ["low", "normal", "high", "urgent"];
  const REASONS = { requested: "Asked for a person", fallback: "The bot did not understand", agent_joined: "Joined from the bot's chats", recovery: "Unhappy with our service" };

  const $ = (id) => document.getElementById(id);

  /* ---------- everything the console knows ---------- */

  const state = {
    token: null, // access token (null when only the cookie is there)
    me: null, // UserOut
    queue: [], // queued handoffs, in queue order
    mine: [], // handoffs this agent holds
    seenInMine: new Set(), // ids that a "mine" update has listed (see setMine)
    unread: new Set(), // my chats with lines I have not looked at
    clockSkewMs: 0, // this browser's clock minus the server's
    canned: [],
    open: null, // {id, handoff, rendered: Set of message ids, tickets: []}
  };

  /* ---------- small helpers ---------- */

  const { el, option, parseTime, ApiError } = window.Staff; // /static/staff.js

  function clockTime(value) {
    return new Date(parseTime(value)).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function mmss(seconds) {
    const whole = Math.max(0, Math.floor(seconds));
    return `${String(Math.floor(whole / 60)).padStart(2, "0")}:${String(whole % 60).padStart(2, "0")}`;
  }

  function customerLabel(handoff) {
    return handoff.customer_name || handoff.customer_email || "Anonymous";
  }

  function reasonLabel(reason) {
    return REASONS[reason] || reason || "";
  }

  /* ---------- status area ---------- */

  let statusTimer = null;

  function showStatus(text, kind = "info") {
    const box = $("console-status");
    box.textContent = text;
    box.dataset.kind = kind;
    clearTimeout(statusTimer);
    statusTimer = setTimeout(() => { box.textContent = ""; }, kind === "error" ? STATUS_MS * 1.5 : STATUS_MS);
  }

  function showError(error) {
    showStatus(error.message || String(error), "error");
  }

  /* ---------- API ---------- */

  /** The page's API caller (see staff.js): a 401 once signed in brings the login view back. */
  const api = window.Staff.apiClient({
    token: () => state.token, signedIn: () => Boolean(state.me), signedOut,
  });

  /** Run an action; show its error in the status area. Returns undefined on failure. */
  async function attempt(action) {
    try {
      return await action();
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) showError(error);
      return undefined;
    }
  }

  /* ---------- sign-in and sign-out ---------- */

  function showLogin() {
    $("app-view").hidden = true;
    $("login-view").hidden = false;
    $("login-email").focus();
  }

  async function login(event) {
    event.preventDefault();
    const submit = $("login-submit");
    submit.disabled = true;
    try {
      const data = await api("/api/v1/auth/token", {
        method: "POST", form: { username: $("login-email").value.trim(), password: $("login-password").value },
      });
      state.token = data.access_token;
      try { sessionStorage.setItem(TOKEN_KEY, state.token); } catch { /* the cookie still works */ }
      $("login-password").value = "";
      await startConsole(data.user, true);
    } catch (error) {
      showError(error);
    } finally {
      submit.disabled = false;
    }
  }

  async function signOut() {
    // Offline first, so customers are not promised a person who has gone.
    await api("/api/v1/auth/me/presence", { method: "PUT", json: { presence: "offline" } }).catch(() => {});
    await api("/api/v1/auth/logout", { method: "POST" }).catch(() => {});
    signedOut("Signed out.");
  }

  /** Forget the sign-in and everything shown, and go back to the login view. */
  function signedOut(message) {
    stopLive();
    clearInterval(tickTimer);
    clearInterval(botChatsTimer);
    try { sessionStorage.removeItem(TOKEN_KEY); } catch { /* nothing stored */ }
    closeChat();
    Object.assign(state, { token: null, me: null, queue: [], mine: [], canned: [] });
    state.seenInMine.clear();
    state.unread.clear();
    renderQueue();
    renderMine();
    $("reconnecting").hidden = true;
    showLogin();
    if (message) showStatus(message, "info");
  }

  let tickTimer = null;

  async function startConsole(me, freshLogin) {
    state.me = me;
    $("agent-name").textContent = me.name;
    $("login-view").hidden = true;
    $("app-view").hidden = false;
    // A new sign-in means "I am here"; a reload keeps a chosen "away", but not "offline".
    if (freshLogin || me.presence === "offline") await setPresence("online");
    else $("presence").value = me.presence;
    tickTimer = setInterval(tickWaits, 1000);
    loadBotChats();
    botChatsTimer = setInterval(loadBotChats, BOT_CHATS_EVERY_MS);
    loadCanned();
    loadCategories();
    poll(); // fill the lists at once; the socket keeps them current
    connectSocket();
  }

  async function setPresence(presence) {
    const select = $("presence");
    const me = await attempt(() => api("/api/v1/auth/me/presence", { method: "PUT", json: { presence } }));
    if (me) state.me = me;
    select.value = state.me.presence === "away" ? "away" : "online";
  }

  /* ---------- live updates: the agent socket, with polling while it is down ---------- */

  let socket = null;
  let backoffMs = 1000;
  let reconnectTimer = null;
  let pingTimer = null;
  let pollTimer = null;

  function connectSocket() {
    if (socket || !state.me) return;
    const url = new URL("/api/v1/agent/ws", location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    // The HttpOnly sign-in cookie authenticates the socket: a token in the URL would end up in logs.
    const ws = new WebSocket(url.toString());
    socket = ws;
    ws.addEventListener("open", () => {
      backoffMs = 1000;
      setConnected(true);
      pingTimer = setInterval(() => sendFrame({ type: "ping" }), PING_MS);
      // Lines written between the last poll and this connection come only from the database.
      if (state.open) refreshOpenChat().catch(() => {});
    });
    ws.addEventListener("message", (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch { return; }
      handleFrame(frame);
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

  function stopLive() {
    const ws = socket;
    socket = null;
    if (ws) ws.close();
    clearTimeout(reconnectTimer);
    clearInterval(pingTimer);
    clearInterval(pollTimer);
    pollTimer = null;
    backoffMs = 1000;
  }

  function sendFrame(frame) {
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

  async function poll() {
    if (!state.me) return;
    try {
      const [queued, active] = await Promise.all([
        api("/api/v1/handoffs?status=queued"),
        api("/api/v1/handoffs?status=active"),
      ]);
      setQueue(queued);
      setMine(active.filter((handoff) => handoff.agent_id === state.me.id));
      if (state.open && !socket) await refreshOpenChat();
    } catch {
      // Still offline, or signed out (which api() has handled): the next tick tries again.
    }
  }

  /* ---------- the Waiting list ---------- */

  const waitNodes = new Map(); // handoff id -> {node, requestedMs}

  function setQueue(handoffs) {
    state.queue = handoffs;
    // wait_seconds is measured on the server's clock; learning the skew keeps mm:ss right when
    // this browser's clock is off.
    const first = handoffs.find((h) => typeof h.wait_seconds === "number");
    if (first) state.clockSkewMs = Date.now() - parseTime(first.requested_at) - first.wait_seconds * 1000;
    renderQueue();
  }

  function waitedSeconds(requestedMs) {
    return (Date.now() - state.clockSkewMs - requestedMs) / 1000;
  }

  function tickWaits() {
    for (const { node, requestedMs } of waitNodes.values()) node.textContent = mmss(waitedSeconds(requestedMs));
  }

  function badges(handoff) {
    const box = el("span", "badges");
    if (handoff.priority) {
      const badge = el("span", `badge prio-${handoff.priority}`, handoff.priority);
      badge.title = "Priority";
      box.appendChild(badge);
    }
    if (handoff.ticket_ref) box.appendChild(el("span", "badge ticket", handoff.ticket_ref));
    return box;
  }

  function queueItem(handoff) {
    const item = el("li", "item");
    item.dataset.testid = "queue-item";
    item.dataset.handoffId = String(handoff.id);

    const top = el("div", "item-top");
    top.appendChild(el("strong", "item-name", customerLabel(handoff)));
    const requestedMs = parseTime(handoff.requested_at);
    const wait = el("span", "wait", mmss(waitedSeconds(requestedMs)));
    wait.title = "Waiting time";
    waitNodes.set(handoff.id, { node: wait, requestedMs });
    top.appendChild(wait);
    item.appendChild(top);

    if (handoff.customer_name && handoff.customer_email) {
      item.appendChild(el("div", "item-sub", handoff.customer_email));
    }
    const meta = el("div", "item-meta");
    meta.append(el("span", "reason", reasonLabel(handoff.reason)), badges(handoff));
    item.appendChild(meta);

    const claimButton = el("button", "claim", "Claim");
    claimButton.type = "button";
    claimButton.dataset.testid = "claim";
    claimButton.setAttribute("aria-label", `Claim chat with ${customerLabel(handoff)}`);
    claimButton.addEventListener("click", () => claimChat(handoff.id, claimButton));
    item.appendChild(claimButton);
    return item;
  }

  /** Rebuilding a list loses focus; put it back on the same control of the same handoff. */
  function rebuildKeepingFocus(list, items) {
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

  function renderQueue() {
    waitNodes.clear();
    rebuildKeepingFocus($("queue-list"), state.queue.map(queueItem));
    $("queue-count").textContent = state.queue.length ? `(${state.queue.length})` : "";
    $("queue-empty").hidden = state.queue.length > 0;
  }

  async function claimChat(handoffId, button) {
    button.disabled = true;
    try {
      const handoff = await api(`/api/v1/handoffs/${handoffId}/claim`, { method: "POST" });
      setQueue(state.queue.filter((h) => h.id !== handoffId));
      if (!state.mine.some((h) => h.id === handoffId)) setMine([...state.mine, handoff]);
      openChat(handoffId);
    } catch (error) {
      if (error.status !== 401) showStatus(error.message, "error");
      button.disabled = false;
    }
  }

  /* ---------- chats the bot is handling, which an agent may join unasked ---------- */

  const BOT_CHATS_EVERY_MS = 10000;
  let botChatsTimer = null;

  async function loadBotChats() {
    if (!state.me) return;
    const chats = await api("/api/v1/conversations").catch(() => null);
    if (!Array.isArray(chats) || !state.me) return;
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
    const join = el("button", "claim", "Join");
    join.type = "button";
    join.dataset.testid = "join";
    join.setAttribute("aria-label", `Join the chat with ${chat.customer_name || "this customer"}`);
    join.addEventListener("click", () => joinChat(chat.id, join));
    item.appendChild(join);
    return item;
  }

  async function joinChat(conversationId, button) {
    button.disabled = true;
    try {
      const handoff = await api(`/api/v1/conversations/${encodeURIComponent(conversationId)}/join`, { method: "POST" });
      if (!state.mine.some((h) => h.id === handoff.id)) setMine([...state.mine, handoff]);
      openChat(handoff.id);
      loadBotChats();
    } catch (error) {
      if (error.status !== 401) showStatus(error.message, "error");
      button.disabled = false;
    }
  }

  /* ---------- the My chats list ---------- */

  function setMine(handoffs) {
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

  function renderMine() {
    rebuildKeepingFocus($("mine-list"), state.mine.map(mineItem));
    $("mine-count").textContent = state.mine.length ? `(${state.mine.length})` : "";
    $("mine-empty").hidden = state.mine.length > 0;
  }

  /* ---------- the open chat ---------- */

  async function openChat(handoffId) {
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

  function closeChat() {
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

  /** While the socket is down: read what is new in the open chat. */
  async function refreshOpenChat() {
    const open = state.open;
    const detail = await api(`/api/v1/handoffs/${open.id}`);
    if (state.open !== open) return;
    open.handoff = detail.handoff;
    renderChatHeader(detail.handoff);
    for (const line of detail.transcript) addLine(line);
    renderNotes(detail.notes);
  }

  function renderChatHeader(handoff) {
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
  function addLine(message) {
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

  function customerWords() {
    return Array.from($("chat-log").querySelectorAll('.line[data-sender="customer"] .line-text'))
      .map((node) => node.textContent).join("\n");
  }

  function onChatMessage(handoffId, message) {
    if (state.open && state.open.id === handoffId) {
      addLine(message);
      if (message && message.sender === "customer") showCustomerTyping(false);
    } else if (state.mine.some((h) => h.id === handoffId)) {
      state.unread.add(handoffId);
      renderMine();
    }
  }

  let customerTypingTimer = null;

  function onCustomerTyping(handoffId, typing) {
    if (state.open && state.open.id === handoffId) showCustomerTyping(typing);
  }

  function showCustomerTyping(typing) {
    clearTimeout(customerTypingTimer);
    $("chat-typing").textContent = typing ? "Customer is typing…" : "";
    if (typing) customerTypingTimer = setTimeout(() => showCustomerTyping(false), TYPING_SHOWN_MS);
  }

  /* ---------- composer, canned replies, our typing ---------- */

  async function sendReply() {
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

  async function loadCanned() {
    // Optional: a server without canned replies simply shows none.
    const replies = await api("/api/v1/canned-replies").catch(() => []);
    state.canned = Array.isArray(replies) ? replies : [];
    const list = $("canned-list");
    list.replaceChildren(...state.canned.map((reply) => {
      const chip = el("button", "canned", reply.title || reply.shortcut);
      chip.type = "button";
      chip.dataset.testid = "canned";
      chip.title = `${reply.shortcut} — ${reply.text}`;
      chip.addEventListener("click", () => insertIntoComposer(reply.text));
      return chip;
    }));
    list.hidden = state.canned.length === 0;
  }

  /** The ticket categories the server is configured with (the HTML lists the defaults). */
  async function loadCategories() {
    const categories = await api("/api/v1/tickets/categories").catch(() => null);
    if (!Array.isArray(categories) || categories.length === 0) return;
    $("ticket-category").replaceChildren(...categories.map((category) => {
      const option = el("option", "", category.label);
      option.value = category.key;
      return option;
    }));
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

  function onComposerKey(event) {
    if (event.shiftKey || event.isComposing || (event.key !== "Enter" && event.key !== "Tab")) return;
    if (expandShortcut()) {
      event.preventDefault();
    } else if (event.key === "Enter") {
      event.preventDefault();
      sendReply();
    }
  }

  let typingSentAt = 0; // when "typing: true" was last sent; 0 while not typing
  let typingIdleTimer = null;
  let typingHandoff = null;

  function onComposerInput() {
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

  function stopTyping() {
    clearTimeout(typingIdleTimer);
    if (typingSentAt) sendFrame({ type: "typing", handoff_id: typingHandoff, typing: false });
    typingSentAt = 0;
  }

  /* ---------- private notes ---------- */

  function renderNotes(notes) {
    $("notes-list").replaceChildren(...notes.map(noteItem));
  }

  function noteItem(note) {
    const item = el("li", "note");
    const meta = el("div", "line-meta");
    meta.appendChild(el("span", "who", note.agent_name || "Agent"));
    const time = el("time", "when", clockTime(note.created_at));
    time.dateTime = note.created_at;
    meta.appendChild(time);
    item.append(meta, el("div", "line-text", note.text));
    return item;
  }

  async function addNote() {
    const open = state.open;
    const input = $("note-input");
    if (!open || !input.value.trim()) return;
    const note = await attempt(() => api(`/api/v1/handoffs/${open.id}/notes`, {
      method: "POST", json: { text: input.value },
    }));
    if (note && state.open === open) {
      $("notes-list").appendChild(noteItem(note));
      input.value = "";
    }
  }

  /* ---------- transfer ---------- */

  let colleagues = []; // who a chat can be transferred to

  async function loadAgents() {
    const select = $("transfer-select");
    const agents = await attempt(() => api("/api/v1/agents"));
    colleagues = (agents || []).filter((a) => !state.me || a.id !== state.me.id);
    select.replaceChildren(...colleagues.map((a) => {
      const chats = a.live_chats === 1 ? "1 chat" : `${a.live_chats} chats`;
      return option(String(a.id), `${a.name} — ${a.presence}, ${chats}`);
    }));
    if (!colleagues.length) select.appendChild(option("", "No colleagues available"));
    $("transfer").disabled = colleagues.length === 0;
  }

  async function transferChat() {
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

  /** The chat is no longer ours (transferred or resolved): out of My chats and off the screen. */
  function leaveChat(handoffId) {
    state.seenInMine.delete(handoffId);
    if (state.open && state.open.id === handoffId) closeChat();
    setMine(state.mine.filter((h) => h.id !== handoffId));
  }

  /* ---------- tickets ---------- */

  async function loadTickets(open) {
    // Tickets opened from this chat, and the customer's others found by e-mail.
    const params = (query) => `/api/v1/tickets?limit=20&${query}`;
    const fromChat = await attempt(() => api(params(`conversation_id=${encodeURIComponent(open.handoff.conversation_id)}`)));
    const email = open.handoff.customer_email;
    const byEmail = email ? await attempt(() => api(params(`q=${encodeURIComponent(email)}`))) : null;
    const tickets = [];
    for (const ticket of [...(fromChat ? fromChat.items : []), ...(byEmail ? byEmail.items : [])]) {
      if (!tickets.some((t) => t.reference === ticket.reference)) tickets.push(ticket);
    }
    const ref = open.handoff.ticket_ref;
    if (state.open !== open) return;
    open.tickets = tickets;
    renderTickets();
    if (ref) $("resolve-ticket").value = ref;
    syncResolveStatus();
  }

  function renderTickets() {
    const tickets = state.open ? state.open.tickets : [];
    $("ticket-list").replaceChildren(...tickets.map(ticketItem));
    $("tickets-empty").hidden = tickets.length > 0;
    const select = $("resolve-ticket");
    const chosen = select.value;
    select.replaceChildren(option("", "No ticket"),
      ...tickets.map((t) => option(t.reference, `${t.reference} — ${t.subject}`)));
    if (tickets.some((t) => t.reference === chosen)) select.value = chosen;
    syncResolveStatus();
  }

  function fieldSelect(values, current, label, testid, onChange) {
    const select = el("select");
    select.dataset.testid = testid;
    select.setAttribute("aria-label", label);
    select.append(...values.map((v) => option(v, v)));
    select.value = current;
    select.addEventListener("change", () => onChange(select.value));
    return select;
  }

  function ticketItem(ticket) {
    const item = el("li", "ticket");
    item.dataset.testid = "ticket-item";
    item.dataset.ref = ticket.reference;
    const top = el("div", "ticket-top");
    top.appendChild(el("strong", "ref", ticket.reference));
    if (ticket.first_response_overdue || ticket.resolution_overdue) top.appendChild(el("span", "badge overdue", "overdue"));
    item.append(top, el("div", "subject", ticket.subject));
    const fields = el("div", "inline");
    fields.append(
      fieldSelect(TICKET_STATUSES, ticket.status, `Status of ${ticket.reference}`, "ticket-status",
        (value) => patchTicket(ticket.reference, { status: value })),
      fieldSelect(PRIORITIES, ticket.priority, `Priority of ${ticket.reference}`, "ticket-priority",
        (value) => patchTicket(ticket.reference, { priority: value })),
    );
    item.appendChild(fields);
    return item;
  }

  function replaceTicket(ticket) {
    if (!state.open) return;
    const tickets = state.open.tickets;
    const index = tickets.findIndex((t) => t.reference === ticket.reference);
    if (index >= 0) tickets[index] = ticket;
    else tickets.unshift(ticket);
  }

  let patches = Promise.resolve(); // ticket changes go one at a time, so answers come back in order

  function patchTicket(reference, change) {
    const open = state.open;
    patches = patches.then(async () => {
      const detail = await attempt(() => api(`/api/v1/tickets/${encodeURIComponent(reference)}`, {
        method: "PATCH", json: change,
      }));
      if (state.open !== open) return;
      if (detail) {
        replaceTicket(detail.ticket);
        showStatus(`${reference} updated.`);
      }
      renderTickets(); // on a refusal this puts the selects back to what the ticket still is
    });
  }

  async function createTicket(event) {
    event.preventDefault();
    const open = state.open;
    if (!open) return;
    const button = $("ticket-create");
    button.disabled = true;
    const detail = await attempt(() => api("/api/v1/tickets", {
      method: "POST",
      json: {
        description: $("ticket-description").value,
        category: $("ticket-category").value,
        customer_name: open.handoff.customer_name,
        customer_email: open.handoff.customer_email,
        conversation_id: open.handoff.conversation_id,
      },
    }));
    button.disabled = false;
    if (!detail || state.open !== open) return;
    replaceTicket(detail.ticket);
    renderTickets();
    $("resolve-ticket").value = detail.ticket.reference;
    syncResolveStatus();
    $("ticket-new").open = false;
    showStatus(`Ticket ${detail.ticket.reference} created.`);
  }

  /* ---------- resolve ---------- */

  function syncResolveStatus() {
    const status = $("resolve-status");
    status.disabled = !$("resolve-ticket").value;
    if (status.disabled) status.value = "";
  }

  async function resolveChat() {
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

  /* ---------- start ---------- */

  function bindEvents() {
    $("login-form").addEventListener("submit", login);
    $("sign-out").addEventListener("click", signOut);
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

  async function boot() {
    bindEvents();
    try { state.token = sessionStorage.getItem(TOKEN_KEY); } catch { state.token = null; }
    // With a stored token, or only the HttpOnly cookie, we may still be signed in.
    const me = await api("/api/v1/auth/me", { quiet401: true }).catch(() => null);
    if (me) {
      await startConsole(me, false);
    } else {
      state.token = null;
      try { sessionStorage.removeItem(TOKEN_KEY); } catch { /* nothing stored */ }
      showLogin();
    }
  }

  boot();
})();
