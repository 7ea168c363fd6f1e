/** The key-figure tiles: each KPI of the summary report, its change against the previous
 * period (good or bad news, by which way is better), and the period compared. */
import { $, el } from "../staff/dom.js";
import { api, query, reportParams } from "./dashboard.js";
import { count, dayLabel, duration, isNum, num, pct } from "./format.js";
import { section } from "./loading.js";

// kind: rate (0..1, change in points), score (1-5 mean), nps (-100..100), duration (s), count.
// better: which way is good news (none for plain volumes). now: a point-in-time figure.
const KPIS = [
  { key: "csat_mean", label: "CSAT mean", kind: "score", better: "up", get: (s) => s?.satisfaction?.csat_mean,
    note: (s) => `out of 5, over ${count(s.satisfaction.csat_answers)} answers` },
  { key: "csat_satisfied", label: "Satisfied (4–5)", kind: "rate", better: "up",
    get: (s) => s?.satisfaction?.csat_satisfied },
  { key: "response_rate", label: "Survey response rate", kind: "rate", better: "up",
    get: (s) => s?.satisfaction?.response_rate,
    note: (s) => `${count(s.satisfaction.surveys_completed)} of ${count(s.satisfaction.surveys_offered)} surveys` },
  { key: "nps", label: "NPS", kind: "nps", better: "up", optional: true, get: (s) => s?.satisfaction?.nps,
    note: (s) => `over ${count(s.satisfaction.nps_answers)} answers` },
  { key: "solved_rate", label: "Solved (customers say)", kind: "rate", better: "up",
    get: (s) => s?.satisfaction?.solved_rate, note: (s) => `over ${count(s.satisfaction.solved_answers)} answers` },
  { key: "first_response_median", label: "First response (median)", kind: "duration", better: "down",
    get: (s) => s?.speed?.first_response?.median, note: (s) => spreadNote(s.speed.first_response) },
  { key: "resolution_median", label: "Resolution (median)", kind: "duration", better: "down",
    get: (s) => s?.speed?.resolution?.median, note: (s) => spreadNote(s.speed.resolution) },
  { key: "handoff_wait_median", label: "Wait for a person (median)", kind: "duration", better: "down",
    get: (s) => s?.speed?.handoff_wait?.median, note: (s) => spreadNote(s.speed.handoff_wait) },
  { key: "queue_abandonment", label: "Queue abandonment", kind: "rate", better: "down",
    get: (s) => s?.speed?.queue_abandonment_rate },
  { key: "sla_first_response_met", label: "SLA first response met", kind: "rate", better: "up",
    get: (s) => s?.sla?.first_response_met },
  { key: "sla_resolution_met", label: "SLA resolution met", kind: "rate", better: "up",
    get: (s) => s?.sla?.resolution_met },
  { key: "breaching_now", label: "Breaching SLA now", kind: "count", better: "down", now: true,
    get: (s) => s?.sla?.breaching_now, note: () => "open tickets, right now" },
  { key: "due_next_hour", label: "Due in the next hour", kind: "count", better: "down", now: true,
    get: (s) => s?.sla?.due_next_hour, note: () => "open tickets, right now" },
  { key: "conversations", label: "Conversations", kind: "count", get: (s) => s?.volume?.conversations },
  { key: "containment_rate", label: "Bot containment", kind: "rate", better: "up",
    get: (s) => s?.bot?.containment_rate, note: () => "chats with no person and no ticket" },
  { key: "fallback_rate", label: "Bot fallback rate", kind: "rate", better: "down",
    get: (s) => s?.bot?.fallback_rate, note: () => "customer lines the bot did not understand" },
  { key: "handoff_rate", label: "Handed to a person", kind: "rate", get: (s) => s?.bot?.handoff_rate },
  { key: "tickets", label: "Tickets", kind: "count", get: (s) => s?.volume?.tickets,
    note: (s) => channelNote(s.volume.tickets_by_channel) },
  { key: "feedback", label: "Feedback items", kind: "count", get: (s) => s?.volume?.feedback },
  { key: "complaints", label: "Complaints", kind: "count", better: "down", get: (s) => s?.volume?.complaints },
];

const CHANNEL_NAMES = { chat: "by chat", email: "by e-mail", page: "on the ticket's page" };

/** "3 by chat · 1 by e-mail": where the tickets came in, when more than one way. */
function channelNote(byChannel) {
  const parts = Object.entries(byChannel || {}).filter(([, n]) => n > 0);
  if (parts.length < 2) return "";
  return parts.map(([channel, n]) => `${count(n)} ${CHANNEL_NAMES[channel] || channel}`).join(" · ");
}

function spreadNote(spread) {
  if (!spread || !spread.count) return "nothing measured";
  return `p90 ${duration(spread.p90)}, over ${count(spread.count)}`;
}

function formatKpi(kind, value) {
  if (!isNum(value)) return "—";
  switch (kind) {
    case "rate": return pct(value);
    case "score": return num(value, 2, 2);
    case "nps": return num(value, 1);
    case "duration": return duration(value);
    default: return count(value);
  }
}

/** The change against the previous period: points for rates and scores, per cent for the rest. */
function change(kpi, value, before) {
  if (kpi.now) return { text: "—", tone: "neutral", title: "A figure for right now: no comparison" };
  if (!isNum(value) || !isNum(before)) return { text: "—", tone: "neutral", title: "No figure to compare with" };
  let diff;
  let text;
  let same;
  switch (kpi.kind) {
    case "rate":
      diff = (value - before) * 100;
      text = `${num(Math.abs(diff), 1, 1)} pts`;
      same = Math.abs(diff) < 0.05;
      break;
    case "score":
      diff = value - before;
      text = num(Math.abs(diff), 2, 2);
      same = Math.abs(diff) < 0.005;
      break;
    case "nps":
      diff = value - before;
      text = `${num(Math.abs(diff), 1, 1)} pts`;
      same = Math.abs(diff) < 0.05;
      break;
    default:
      if (before === 0) {
        return value === 0 ? { text: "no change", tone: "neutral", title: "The same as the previous period" }
          : { text: "—", tone: "neutral", title: "Nothing in the previous period to compare with" };
      }
      diff = ((value - before) / Math.abs(before)) * 100;
      text = `${num(Math.abs(diff))}%`;
      same = Math.abs(diff) < 0.5;
  }
  if (same) return { text: "no change", tone: "neutral", title: "The same as the previous period" };
  const up = diff > 0;
  const tone = !kpi.better ? "neutral" : (up === (kpi.better === "up") ? "good" : "bad");
  return { text: `${up ? "▲" : "▼"} ${text}`, tone, title: `${up ? "Up" : "Down"} ${text} on the previous period` };
}

export function loadSummary(gen, filters) {
  return section(gen, () => api(`/api/v1/reports/summary${query(reportParams(filters))}`), renderSummary, () => {
    $("kpi-list").replaceChildren(el("li", "empty", "The figures could not be loaded."));
    $("period").textContent = "";
  });
}

function renderSummary(summary) {
  const previous = summary.previous || null;
  const list = $("kpi-list");
  list.replaceChildren();
  for (const kpi of KPIS) {
    const value = kpi.get(summary);
    const before = previous ? kpi.get(previous) : null;
    if (kpi.optional && !isNum(value) && !isNum(before)) continue;
    list.append(kpiTile(kpi, value, before, summary));
  }
  let period = `${dayLabel(summary.first)} – ${dayLabel(summary.last)}`;
  if (previous) period += `, compared with ${dayLabel(previous.first)} – ${dayLabel(previous.last)}`;
  if (summary.timezone) period += ` (days in ${summary.timezone})`;
  $("period").textContent = period;
}

function kpiTile(kpi, value, before, summary) {
  const tile = el("li", "kpi");
  tile.dataset.testid = "kpi-tile";
  tile.dataset.kpi = kpi.key;
  const valueNode = el("p", "kpi-value", formatKpi(kpi.kind, value));
  valueNode.dataset.testid = "kpi-value";
  const delta = change(kpi, value, before);
  const deltaNode = el("p", `kpi-change ${delta.tone}`, delta.text);
  deltaNode.dataset.testid = "kpi-change";
  deltaNode.title = delta.title;
  tile.append(el("h3", "kpi-label", kpi.label), valueNode, deltaNode);
  if (!kpi.now) tile.append(el("p", "kpi-prev", `Previous period: ${formatKpi(kpi.kind, before)}`));
  if (kpi.note) {
    let note = "";
    try { note = kpi.note(summary); } catch { note = ""; }
    if (note) tile.append(el("p", "kpi-note", note));
  }
  return tile;
}
