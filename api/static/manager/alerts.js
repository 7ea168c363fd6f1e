/** The active alerts at the top of the dashboard. */
import { $, el } from "../staff/dom.js";
import { api } from "./dashboard.js";
import { dateTime, isNum, num } from "./format.js";
import { section } from "./loading.js";

export function loadAlerts(gen) {
  return section(gen, () => api("/api/v1/alerts?active=true"), renderAlerts);
}

function renderAlerts(alerts) {
  const active = (Array.isArray(alerts) ? alerts : []).filter((alert) => !alert.cleared_at);
  const list = $("alerts-list");
  list.replaceChildren();
  for (const alert of active) {
    const item = el("li", "alert");
    item.dataset.testid = "alert";
    item.dataset.rule = alert.rule_key;
    const meta = [`Since ${dateTime(alert.fired_at)}`];
    if (isNum(alert.value)) meta.push(`now ${num(alert.value, 2)}`);
    if (isNum(alert.threshold)) meta.push(`threshold ${num(alert.threshold, 2)}`);
    item.append(el("strong", "alert-message", alert.message), el("span", "alert-meta", meta.join(" · ")));
    list.append(item);
  }
  $("alerts").hidden = active.length === 0;
}
