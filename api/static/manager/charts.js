/** The daily trend charts: which series each shows, loading them for the filters, and each
 * chart as an SVG with its numbers as a table folded away beneath. */
import { $, el } from "../staff/dom.js";
import { chartSvg, chartUnit } from "./chartsvg.js";
import { api, query, reportParams, state } from "./dashboard.js";
import { dayLabel, isNum } from "./format.js";

const CHARTS = [
  { key: "csat", title: "Customer satisfaction (% satisfied)", kind: "rate", axis: "% satisfied",
    series: [{ metric: "csat_satisfied", label: "Satisfied (4–5)" }] },
  { key: "speed", title: "Response times (daily median)", kind: "duration",
    series: [{ metric: "first_response_median", label: "First response" },
      { metric: "handoff_wait_median", label: "Wait for a person" }] },
  { key: "volume", title: "Volumes", kind: "count", axis: "per day",
    series: [{ metric: "conversations", label: "Conversations" }, { metric: "tickets", label: "Tickets" },
      { metric: "feedback", label: "Feedback" }] },
  { key: "sla", title: "SLA compliance", kind: "rate", axis: "% on time",
    series: [{ metric: "sla_first_response_met", label: "First response on time" },
      { metric: "sla_resolution_met", label: "Resolution on time" }] },
];

export async function loadCharts(gen, filters) {
  const failures = await Promise.all(CHARTS.map(async (chart) => {
    const answers = await Promise.allSettled(chart.series.map((series) => api(
      `/api/v1/reports/timeseries${query({ metric: series.metric, interval: "day", ...reportParams(filters) })}`)));
    if (gen === state.generation) renderChart(chart, answers.map((a) => (a.status === "fulfilled" ? a.value : null)));
    const failed = answers.find((a) => a.status === "rejected");
    return failed ? failed.reason : null;
  }));
  const failure = failures.find(Boolean);
  if (failure) throw failure;
}

function renderChart(chart, answers) {
  const slot = $(`chart-${chart.key}`);
  slot.replaceChildren();
  const first = answers.find((answer) => answer && Array.isArray(answer.points));
  if (!first || !first.points.length) {
    slot.append(el("p", "empty", first ? "No days in this period." : "This chart could not be loaded."));
    return;
  }
  const days = first.points.map((point) => point.day);
  const lines = chart.series.map((series, i) => {
    const points = answers[i] && Array.isArray(answers[i].points) ? answers[i].points : [];
    return {
      label: series.label,
      failed: !answers[i],
      values: days.map((_, j) => (points[j] && isNum(points[j].value) ? points[j].value : null)),
    };
  });
  slot.append(chartSvg(chart, days, lines), chartTable(chart, days, lines));
}

/** The same numbers as a table, folded away, for whoever prefers reading them. */
function chartTable(chart, days, lines) {
  const unit = chartUnit(chart, 0);
  const details = el("details", "chart-data");
  details.append(el("summary", "", "Show the numbers"));
  const wrap = el("div", "table-wrap");
  const table = el("table", "compact");
  table.append(el("caption", "visually-hidden", `${chart.title}, by day`));
  const head = el("thead");
  const headRow = el("tr");
  const dayHead = el("th", "", "Day");
  dayHead.scope = "col";
  headRow.append(dayHead);
  for (const line of lines) {
    const th = el("th", "", line.label);
    th.scope = "col";
    headRow.append(th);
  }
  head.append(headRow);
  const body = el("tbody");
  days.forEach((day, j) => {
    const row = el("tr");
    const th = el("th", "", dayLabel(day));
    th.scope = "row";
    row.append(th);
    for (const line of lines) row.append(el("td", "num", line.values[j] === null ? "—" : unit.text(line.values[j])));
    body.append(row);
  });
  table.append(head, body);
  wrap.append(table);
  details.append(wrap);
  return details;
}
