/** Loading the whole dashboard for the applied filters: every section at once, answers of an
 * older load dropped, errors gathered into one message. When all is in,
 * document.body.dataset.loaded counts one more full load. */
import { ApiError } from "../staff/api.js";
import { $ } from "../staff/dom.js";
import { loadAlerts } from "./alerts.js";
import { loadBreaches } from "./breaches.js";
import { loadCharts } from "./charts.js";
import { showStatus, state } from "./dashboard.js";
import { loadInbox } from "./inbox.js";
import { loadSummary } from "./kpis.js";
import { loadThemes } from "./themes.js";
import { showForbidden } from "./views.js";

export async function loadAll() {
  const gen = ++state.generation;
  const filters = state.applied;
  const dashboard = $("dashboard");
  dashboard.setAttribute("aria-busy", "true");
  document.body.dataset.loading = "true";
  const results = await Promise.allSettled([
    loadSummary(gen, filters),
    loadCharts(gen, filters),
    loadBreaches(gen, filters),
    loadAlerts(gen),
    loadThemes(gen, filters),
    loadInbox(),
  ]);
  if (gen !== state.generation) return; // a newer load, a sign-out or a 403 took over
  dashboard.removeAttribute("aria-busy");
  delete document.body.dataset.loading;
  const errors = results.filter((r) => r.status === "rejected").map((r) => r.reason);
  if (errors.some((e) => e instanceof ApiError && e.status === 403)) {
    showForbidden();
    return;
  }
  const messages = [...new Set(errors.filter((e) => !(e instanceof ApiError && e.status === 401))
    .map((e) => (e && e.message) || String(e)))];
  if (messages.length) showStatus(messages.join(" "), "error");
  $("updated").textContent = `Updated ${new Date().toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" })}`;
  state.loads += 1;
  document.body.dataset.loaded = String(state.loads);
}

/** Fetch, then render only if this load is still the current one; failures show in place. */
export async function section(gen, fetcher, render, failed) {
  try {
    const data = await fetcher();
    if (gen === state.generation) render(data);
  } catch (error) {
    if (gen === state.generation && failed) failed(error);
    throw error;
  }
}
