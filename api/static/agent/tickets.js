/** The customer's tickets beside the open chat: those opened from it and those found by e-mail,
 * changing a ticket's status or priority, and opening a new one (categories from the server). */
import { pageConfig } from "../staff/config.js";
import { $, el, option } from "../staff/dom.js";
import { api, attempt, showStatus, state } from "./console.js";
import { syncResolveStatus } from "./resolve.js";

const TICKET_STATUSES = ["new", "open", "pending", "resolved", "closed"];
const PRIORITIES = ["low", "normal", "high", "urgent"];

let patches = Promise.resolve(); // ticket changes go one at a time, so answers come back in order

/** The New ticket form's categories: the ones the server is configured with. */
export async function loadCategories() {
  const config = await pageConfig();
  const categories = config && config.ticket_categories;
  if (!Array.isArray(categories) || categories.length === 0) return;
  $("ticket-category").replaceChildren(...categories.map((category) => option(category.key, category.label)));
}

export async function loadTickets(open) {
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

export async function createTicket(event) {
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
