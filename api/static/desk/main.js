/** The ticket desk (/desk): every request, whatever it came by (chat, e-mail), for agents to read and answer.
 * The list with its filters; one request's history with the customer's files under the words they came
 * with; the answer (a public reply, e-mailed to the customer, or a private note); status, priority and
 * assignee; whether each e-mail to the customer went; and the support mailbox's messages held for a person.
 * Text is always shown as text, never as HTML. */
import { applyPageConfig } from "../staff/config.js";
import { $, el, option, parseTime } from "../staff/dom.js";
import { staffSignIn } from "../staff/signin.js";
import { statusLine } from "../staff/status.js";

const showStatus = statusLine("status", { infoMs: 6000, errorMs: 20000 });
const signIn = staffSignIn({
  tokenKey: "support-desk:token", showStatus, forbidden: "This page is for support staff.",
  headers: { Accept: "application/json" }, expiredText: "Your sign-in has ended: please sign in again.",
});
const { api, session } = signIn;
const state = { tickets: [], open: null, staff: [] };
const KINDS = {
  created: "Request", note: "Customer", reply: "Reply to the customer", internal: "Private note",
  status: "Status", priority: "Priority", assignee: "Assignee",
};
const CHANNELS = { chat: "chat", email: "e-mail" };

function when(value) {
  return value ? new Date(parseTime(value)).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" }) : "";
}

function sizeText(bytes) {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.ceil(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}

async function attempt(call) {
  try {
    return await call();
  } catch (error) {
    showStatus(error.message || String(error), "error");
    return null;
  }
}

// ---------- the list ----------

async function loadList() {
  const params = new URLSearchParams({ limit: "100" });
  for (const [key, id] of [["status", "list-status"], ["assignee", "list-assignee"], ["q", "list-q"]]) {
    const value = $(id).value.trim();
    if (value) params.set(key, value);
  }
  const page = await attempt(() => api(`/api/v1/tickets?${params}`));
  if (!page) return;
  state.tickets = page.items;
  $("list-count").textContent = `(${page.total})`;
  $("ticket-list").replaceChildren(...page.items.map(listItem));
  $("list-empty").hidden = page.items.length > 0;
}

function listItem(ticket) {
  const li = el("li");
  const pick = el("button");
  pick.type = "button";
  pick.dataset.testid = "ticket-row";
  pick.dataset.ref = ticket.reference;
  pick.setAttribute("aria-current", String(state.open?.ticket.reference === ticket.reference));
  const top = el("span");
  top.append(el("span", "ref", ticket.reference));
  const badges = el("span", "badges");
  badges.append(el("span", `badge prio-${ticket.priority}`, ticket.priority), el("span", "badge", ticket.status),
    el("span", "badge", CHANNELS[ticket.channel] || ticket.channel));
  if (ticket.first_response_overdue || ticket.resolution_overdue) badges.append(el("span", "badge overdue", "overdue"));
  top.append(badges);
  pick.append(top, el("span", "", ticket.subject),
    el("span", "sub", `${ticket.customer_name || ticket.customer_email || "no name"} · ${when(ticket.updated_at)}`));
  pick.addEventListener("click", () => openTicket(ticket.reference));
  li.append(pick);
  return li;
}

// ---------- the support mailbox ----------

async function loadMailbox() {
  const page = await attempt(() => api("/api/v1/mailbox?outcome=held&limit=20"));
  if (!page) return;
  const { pending = 0, sending = 0, failed = 0 } = page.outbox || {};
  $("outbox").textContent = `E-mails to customers: ${pending + sending} waiting to be sent, ${failed} not delivered.`;
  $("held-count").textContent = `(${page.total})`;
  $("held").replaceChildren(...page.items.map((held) => {
    const li = el("li");
    li.dataset.testid = "held-item";
    li.append(el("div", "who", `${held.from_address} · ${when(held.received_at)} · ${held.subject}`),
      el("div", "meta", held.reason || ""), el("p", "body", held.text));
    if (held.ticket_reference) {
      const open = el("button", "", `Open ${held.ticket_reference}`);
      open.type = "button";
      open.addEventListener("click", () => openTicket(held.ticket_reference));
      li.append(open);
    }
    return li;
  }));
  $("held-empty").hidden = page.items.length > 0;
}

// ---------- one request ----------

async function openTicket(reference) {
  const detail = await attempt(() => api(`/api/v1/tickets/${encodeURIComponent(reference)}`));
  if (detail) showDetail(detail);
}

function showDetail(detail) {
  state.open = detail;
  const { ticket } = detail;
  $("detail-none").hidden = true;
  $("detail-view").hidden = false;
  $("detail-title").textContent = `${ticket.reference} · ${ticket.subject}`;
  const who = [ticket.customer_name, ticket.customer_email].filter(Boolean).join(" · ") || "no name or e-mail";
  $("detail-meta").textContent = `${who} · by ${CHANNELS[ticket.channel] || ticket.channel} · ${ticket.category}`
    + ` · ${ticket.classification} · opened ${when(ticket.created_at)}`;
  const reply = ticket.first_responded_at ? `answered ${when(ticket.first_responded_at)}`
    : `first reply due ${when(ticket.first_response_due)}${ticket.first_response_overdue ? " (overdue)" : ""}`;
  const solved = ticket.resolved_at ? `solved ${when(ticket.resolved_at)}`
    : `solution due ${when(ticket.resolution_due)}${ticket.resolution_overdue ? " (overdue)" : ""}`;
  $("detail-sla").textContent = `${reply} · ${solved}`;
  $("detail-status").value = ticket.status;
  $("detail-priority").value = ticket.priority;
  fillAssignees(ticket);
  renderHistory(detail);
  renderFiles(detail.attachments || []);
  renderMails(detail.mails || []);
  for (const button of $("ticket-list").querySelectorAll("button")) {
    button.setAttribute("aria-current", String(button.dataset.ref === ticket.reference));
  }
}

function fillAssignees(ticket) {
  const select = $("detail-assignee");
  const people = [...state.staff];
  if (ticket.assignee_id && !people.some((p) => p.id === ticket.assignee_id)) {
    people.push({ id: ticket.assignee_id, name: ticket.assignee_name || `#${ticket.assignee_id}` });
  }
  select.replaceChildren(option("", "Nobody"), ...people.map((p) => option(String(p.id), p.name)));
  select.value = ticket.assignee_id ? String(ticket.assignee_id) : "";
}

function fileLink(ticket, file) {
  const link = el("a", "", file.filename);
  link.href = `/api/v1/tickets/${encodeURIComponent(ticket.reference)}/attachments/${file.id}`;
  link.download = file.filename;
  link.dataset.testid = "file-link";
  const item = el("li");
  item.append(link, ` (${file.content_type}, ${sizeText(file.size)})`);
  return item;
}

function renderHistory(detail) {
  const { ticket } = detail;
  const byEvent = new Map();
  for (const file of detail.attachments || []) {
    if (file.event_id) byEvent.set(file.event_id, [...(byEvent.get(file.event_id) || []), file]);
  }
  const items = detail.events.map((event) => {
    const li = el("li", event.kind);
    li.dataset.testid = "history-item";
    li.dataset.kind = event.kind;
    const who = event.actor_name || (event.actor.startsWith("customer") ? "customer" : event.actor);
    li.append(el("div", "who", `${KINDS[event.kind] || event.kind} · ${who} · ${when(event.created_at)}`));
    const text = event.kind === "created" ? ticket.description
      : event.body || [event.from_value, event.to_value].filter((v) => v !== null && v !== undefined).join(" → ");
    if (text) li.append(el("p", "body", text));
    const files = byEvent.get(event.id);
    if (files) {
      const list = el("ul", "attached");
      list.append(...files.map((file) => fileLink(ticket, file)));
      li.append(list);
    }
    return li;
  });
  $("history").replaceChildren(...items);
}

function renderFiles(files) {
  $("files").replaceChildren(...files.map((file) => fileLink(state.open.ticket, file)));
  $("files-empty").hidden = files.length > 0;
}

function renderMails(mails) {
  $("mails").replaceChildren(...mails.map((mail) => {
    const li = el("li", mail.status);
    li.dataset.testid = "mail-item";
    li.dataset.status = mail.status;
    const state_ = mail.status === "sent" ? `sent ${when(mail.sent_at)}`
      : mail.status === "failed" ? `not delivered: ${mail.last_error || "given up"}` : "waiting to be sent";
    li.textContent = `${mail.subject} → ${mail.to_address}: ${state_}`;
    return li;
  }));
  $("mails-empty").hidden = mails.length > 0;
}

// ---------- changes ----------

async function patch(change, done) {
  const reference = state.open.ticket.reference;
  const detail = await attempt(() => api(`/api/v1/tickets/${encodeURIComponent(reference)}`,
    { method: "PATCH", json: change }));
  if (detail) {
    showDetail(detail);
    showStatus(done);
    loadList();
  } else {
    showDetail(state.open); // back to what the ticket still is
  }
}

async function sendReply(event) {
  event.preventDefault();
  const text = $("reply-text").value.trim();
  if (!text) {
    showStatus("Write the answer first.", "error");
    return;
  }
  const reference = state.open.ticket.reference;
  const isPublic = document.querySelector('input[name="reply-kind"]:checked').value === "public";
  $("reply-send").disabled = true;
  const added = await attempt(() => api(`/api/v1/tickets/${encodeURIComponent(reference)}/comments`,
    { method: "POST", json: { text, public: isPublic } }));
  $("reply-send").disabled = false;
  if (!added) return;
  $("reply-text").value = "";
  showStatus(isPublic ? "Reply sent to the customer." : "Private note added.");
  await openTicket(reference);
  loadList();
}

async function start(me) {
  $("desk-name").textContent = me.name;
  $("login-view").hidden = true;
  $("app-view").hidden = false;
  state.staff = (await attempt(() => api("/api/v1/agents"))) || [];
  await Promise.all([loadList(), loadMailbox()]);
  const wanted = new URLSearchParams(location.hash.slice(1)).get("ticket");
  if (wanted) openTicket(wanted);
}

function reset() {
  state.tickets = [];
  state.open = null;
  $("ticket-list").replaceChildren();
  $("held").replaceChildren();
  $("detail-view").hidden = true;
  $("detail-none").hidden = false;
}

$("list-form").addEventListener("submit", (event) => {
  event.preventDefault();
  loadList();
  loadMailbox();
});
$("reply-form").addEventListener("submit", sendReply);
$("detail-status").addEventListener("change", (event) => patch({ status: event.target.value },
  `Status: ${event.target.value}.`));
$("detail-priority").addEventListener("change", (event) => patch({ priority: event.target.value },
  `Priority: ${event.target.value}.`));
$("detail-assignee").addEventListener("change", (event) => {
  const value = event.target.value;
  patch({ assignee_id: value ? Number(value) : null }, value ? "Assigned." : "Unassigned.");
});
applyPageConfig({ "reply-text": "max_description_chars", "list-q": "max_search_chars" });
signIn.boot({ start, reset });
