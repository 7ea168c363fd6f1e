/** The SLA watch: open tickets breaching an SLA now, then those due within the hour. The same
 * report brings the open recovery items, handed on to their table. */
import { $, el } from "../staff/dom.js";
import { badge, emptyRow } from "./controls.js";
import { api, query, reportParams, state } from "./dashboard.js";
import { capitalise, dateTime } from "./format.js";
import { section } from "./loading.js";
import { renderRecovery } from "./recovery.js";

const SLA_LABELS = { first_response: "first response", resolution: "resolution" };

export function loadBreaches(gen, filters) {
  return section(gen, () => api(`/api/v1/reports/breaches${query(reportParams(filters, false))}`), renderBreaches,
    () => {
      $("breaches-body").replaceChildren(emptyRow(7, "The SLA watch could not be loaded."));
      $("recovery-body").replaceChildren(emptyRow(5, "The recovery items could not be loaded."));
    });
}

function renderBreaches(data) {
  const body = $("breaches-body");
  body.replaceChildren();
  const tickets = Array.isArray(data.tickets) ? data.tickets : [];
  if (!tickets.length) body.append(emptyRow(7, "No open ticket is breaching its SLA or due within the hour."));
  for (const ticket of tickets) {
    const missed = Array.isArray(ticket.missed) ? ticket.missed : [];
    const row = el("tr", missed.length ? "breaching" : "due-soon");
    row.dataset.testid = "breach-row";
    row.dataset.reference = ticket.reference;
    const ref = el("th", "ref", ticket.reference);
    ref.scope = "row";
    const sla = el("td");
    if (missed.length) {
      sla.append(badge(`Missed: ${missed.map((m) => SLA_LABELS[m] || m).join(" and ")}`, "overdue"));
    } else if (ticket.due_soon) {
      sla.append(badge(`Due soon: ${SLA_LABELS[ticket.due_soon] || ticket.due_soon}`, "soon"));
    } else {
      sla.textContent = "—";
    }
    const priority = el("td");
    priority.append(badge(capitalise(ticket.priority), `prio-${ticket.priority}`));
    row.append(ref, el("td", "subject", ticket.subject), priority, el("td", "", capitalise(ticket.status)),
      el("td", "", ticket.assignee_name || "Unassigned"), sla, el("td", "nowrap", dateTime(ticket.next_due)));
    body.append(row);
  }
  $("breaches-note").textContent = data.generated_at ? `As of ${dateTime(data.generated_at)}` : "";
  state.recovery = Array.isArray(data.recovery) ? data.recovery.filter((item) => item.status !== "closed") : [];
  renderRecovery();
}
