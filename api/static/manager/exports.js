/** The downloads: a link per dataset and format, carrying the applied filters (and redaction
 * when asked); the sign-in cookie authenticates them. */
import { $, el } from "../staff/dom.js";
import { query, reportParams, state } from "./dashboard.js";
import { defaultFilters } from "./filters.js";

const DATASETS = [
  ["survey_responses", "Survey responses"],
  ["feedback", "Feedback"],
  ["tickets", "Tickets"],
  ["conversations", "Conversations"],
];
const FORMATS = [["csv", "CSV"], ["xlsx", "XLSX"], ["ndjson", "NDJSON"]];

export function buildDownloads() {
  const body = $("downloads-body");
  body.replaceChildren();
  for (const [dataset, label] of DATASETS) {
    const row = el("tr");
    const name = el("th", "", label);
    name.scope = "row";
    const cell = el("td");
    const links = el("div", "links");
    for (const [format, formatLabel] of FORMATS) {
      const link = el("a", "download", formatLabel);
      link.dataset.testid = `download-${dataset}-${format}`;
      link.dataset.dataset = dataset;
      link.dataset.format = format;
      link.setAttribute("aria-label", `${label} as ${formatLabel}`);
      link.setAttribute("download", "");
      link.href = `/api/v1/exports/${dataset}?format=${format}`;
      links.append(link);
    }
    cell.append(links);
    row.append(name, cell);
    body.append(row);
  }
}

export function updateDownloads() {
  const filters = state.applied || defaultFilters();
  const redact = $("redact").checked;
  for (const link of $("downloads-body").querySelectorAll("a.download")) {
    link.href = `/api/v1/exports/${link.dataset.dataset}${query({
      format: link.dataset.format, ...reportParams(filters), redact: redact ? "true" : undefined,
    })}`;
  }
}
