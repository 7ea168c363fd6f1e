/* Brightside manager dashboard (served at /manager).
 *
 * Signs in like the agent console: the OAuth2 password flow, the server sets an HttpOnly cookie
 * (which also authenticates the download links) and we keep the access token in sessionStorage
 * for the Authorization header. Every text from the server is shown with textContent; charts are
 * SVG built node by node. When everything for the applied filters has loaded,
 * document.body.dataset.loaded counts one more full load.
 */
(() => {
  "use strict";

  const TOKEN_KEY = "support-manager:token";
  const SVG_NS = "http://www.w3.org/2000/svg";
  const STATUS_MS = 8000; // how long an information message stays
  const ERROR_MS = 20000; // and an error
  const INBOX_LIMIT = 20;
  const MANAGER_ROLES = ["manager", "admin"];
  const FORBIDDEN_TEXT = "This page needs the manager role.";
  const FILTER_KEYS = ["from", "to", "agent_id", "category", "priority", "classification", "owner"];
  const DATASETS = [
    ["survey_responses", "Survey responses"],
    ["feedback", "Feedback"],
    ["tickets", "Tickets"],
    ["conversations", "Conversations"],
  ];
  const FORMATS = [["csv", "CSV"], ["xlsx", "XLSX"], ["ndjson", "NDJSON"]];
  const SERIES_COLOURS = ["#1f5f8b", "#c2620a", "#2d6a45", "#7a4fa0"];
  const SERIES_DASHES = ["", "7 4", "2 3", "9 3 2 3"];
  const CATEGORY_LABELS = {
    orders_shipping: "Orders & shipping",
    returns_refunds: "Returns & refunds",
    billing_payments: "Billing & payments",
    account_login: "Account & login",
    product_technical: "Product & technical",
    other: "Other",
    service_quality: "Service quality",
    product: "Product",
    process: "Process",
    suggestion: "Suggestion",
    complaint: "Complaint",
    survey_comment: "Survey comment",
  };
  const SLA_LABELS = { first_response: "first response", resolution: "resolution" };

  const $ = (id) => document.getElementById(id);

  /* ---------- what the page knows ---------- */

  const state = {
    token: null,
    me: null,
    users: [], // every staff account, by name
    applied: null, // the report filters in force: {from, to, agent_id, category, ...}; "" = all
    inboxFilters: null, // the inbox's own filters in force
    inbox: { offset: 0, total: 0, items: [] },
    recovery: [], // open recovery items shown
    loads: 0, // full loads completed
    inboxLoads: 0,
  };
  let generation = 0; // a newer full load (or a sign-out) makes older answers stale
  let inboxGeneration = 0;

  /* ---------- small helpers ---------- */

  const { el, option, parseTime, ApiError } = window.Staff; // /static/staff.js

  function svgEl(tag, attributes = {}, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (value !== undefined && value !== null && value !== "") node.setAttribute(name, String(value));
    }
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function button(text, className, testid) {
    const node = el("button", className, text);
    node.type = "button";
    if (testid) node.dataset.testid = testid;
    return node;
  }

  function visuallyHiddenLabel(forId, text) {
    const label = el("label", "visually-hidden", text);
    label.htmlFor = forId;
    return label;
  }

  function badge(text, extra) {
    return el("span", extra ? `badge ${extra}` : "badge", text);
  }

  function categoryLabel(key) {
    return CATEGORY_LABELS[key] || String(key || "").replace(/_/g, " ");
  }

  function capitalise(text) {
    const value = String(text || "");
    return value.charAt(0).toUpperCase() + value.slice(1);
  }

  /* ---------- numbers, dates and times (en-GB) ---------- */

  const formatters = new Map();

  function num(value, maxDigits = 0, minDigits = 0) {
    const key = `${minDigits}:${maxDigits}`;
    let format = formatters.get(key);
    if (!format) {
      format = new Intl.NumberFormat("en-GB", { minimumFractionDigits: minDigits, maximumFractionDigits: maxDigits });
      formatters.set(key, format);
    }
    return format.format(value);
  }

  const isNum = (value) => typeof value === "number" && Number.isFinite(value);

  function pct(fraction, digits = 1) {
    return isNum(fraction) ? `${num(fraction * 100, digits, digits)}%` : "—";
  }

  function count(value) {
    return isNum(value) ? num(value) : "—";
  }

  /** Seconds as seconds, minutes, hours or days, whichever reads best. */
  function duration(seconds) {
    if (!isNum(seconds)) return "—";
    const size = Math.abs(seconds);
    if (size < 60) return `${num(seconds)} s`;
    if (size < 3600) return `${num(seconds / 60, size < 600 ? 1 : 0)} min`;
    if (size < 172800) return `${num(seconds / 3600, 1)} h`;
    return `${num(seconds / 86400, 1)} days`;
  }

  const pad = (n) => String(n).padStart(2, "0");

  function isoDate(date) {
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  }

  /** "YYYY-MM-DD" as a local date (not UTC midnight, which may be the day before here). */
  function parseDay(text) {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(text || ""));
    return match ? new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : null;
  }

  function validDay(text) {
    const date = parseDay(text);
    return date !== null && isoDate(date) === text;
  }

  function dayLabel(text, withYear = true) {
    const date = parseDay(text);
    if (!date) return String(text ?? "");
    return date.toLocaleDateString("en-GB", withYear ? { day: "numeric", month: "short", year: "numeric" }
      : { day: "numeric", month: "short" });
  }

  function dateTime(value) {
    if (!value) return "—";
    const time = parseTime(value);
    if (Number.isNaN(time)) return String(value);
    return new Date(time).toLocaleString("en-GB", {
      day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
    });
  }

  /** A local time as ISO 8601 with this browser's offset, e.g. 2025-03-01T23:59:00+01:00. */
  function withOffset(date) {
    const offset = -date.getTimezoneOffset();
    const size = Math.abs(offset);
    return `${isoDate(date)}T${pad(date.getHours())}:${pad(date.getMinutes())}:00`
      + `${offset >= 0 ? "+" : "-"}${pad(Math.floor(size / 60))}:${pad(size % 60)}`;
  }

  /** A due date means "by the end of that day", here. */
  function endOfDay(dayText) {
    const day = parseDay(dayText);
    return day ? withOffset(new Date(day.getFullYear(), day.getMonth(), day.getDate(), 23, 59)) : null;
  }

  function localDay(value) {
    if (!value) return "";
    const time = parseTime(value);
    return Number.isNaN(time) ? "" : isoDate(new Date(time));
  }

  /* ---------- status area ---------- */

  let statusTimer = null;

  function showStatus(text, kind = "info") {
    const box = $("status");
    box.textContent = text;
    box.dataset.kind = kind;
    clearTimeout(statusTimer);
    statusTimer = setTimeout(() => { box.textContent = ""; }, kind === "error" ? ERROR_MS : STATUS_MS);
  }

  /* ---------- API ---------- */

  /** The page's API caller (see staff.js): a 401 once signed in brings the login view back. */
  const api = window.Staff.apiClient({
    token: () => state.token, signedIn: () => Boolean(state.me), forbidden: FORBIDDEN_TEXT,
    headers: { Accept: "application/json" },
    signedOut: () => signedOut("Your sign-in has ended: please sign in again."),
  });

  /** Show an error where it belongs: 401 is already back at sign-in, 403 is the wrong role. */
  function handleError(error) {
    if (error instanceof ApiError && error.status === 401) return;
    if (error instanceof ApiError && error.status === 403) {
      showForbidden();
      return;
    }
    showStatus(error && error.message ? error.message : String(error), "error");
  }

  function query(params) {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
    }
    const text = search.toString();
    return text ? `?${text}` : "";
  }

  /** The report filters as query parameters (the breaches have no period). */
  function reportParams(filters, withDates = true) {
    return {
      from: withDates ? filters.from : undefined,
      to: withDates ? filters.to : undefined,
      agent_id: filters.agent_id,
      category: filters.category,
      priority: filters.priority,
      classification: filters.classification,
      owner: filters.owner,
    };
  }

  /* ---------- sign-in and sign-out ---------- */

  function saveToken(token) {
    state.token = token || null;
    try {
      if (token) sessionStorage.setItem(TOKEN_KEY, token);
      else sessionStorage.removeItem(TOKEN_KEY);
    } catch { /* the cookie still works */ }
  }

  function showLogin() {
    $("app-view").hidden = true;
    $("forbidden-view").hidden = true;
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
        quiet401: true,
      });
      saveToken(data.access_token);
      $("login-password").value = "";
      const me = data.user || await api("/api/v1/auth/me", { quiet401: true });
      await start(me);
    } catch (error) {
      showStatus(error.message || String(error), "error");
    } finally {
      submit.disabled = false;
    }
  }

  async function signOut() {
    await api("/api/v1/auth/logout", { method: "POST", quiet401: true }).catch(() => {});
    signedOut("Signed out.");
  }

  /** Forget the sign-in and everything shown, and go back to the login view. */
  function signedOut(message) {
    generation += 1;
    inboxGeneration += 1;
    saveToken(null);
    state.me = null;
    state.users = [];
    state.recovery = [];
    state.inbox = { offset: 0, total: 0, items: [] };
    clearDashboard();
    showLogin();
    if (message) showStatus(message, "info");
  }

  /** Signed in, but not as a manager: say so, and offer to sign in as someone else. */
  function showForbidden() {
    generation += 1;
    inboxGeneration += 1;
    clearDashboard();
    $("app-view").hidden = true;
    $("login-view").hidden = true;
    $("forbidden-view").hidden = false;
    const me = state.me;
    $("forbidden-who").textContent = me ? `You are signed in as ${me.name} (${me.role}).` : "";
    showStatus(FORBIDDEN_TEXT, "error");
    $("forbidden-sign-out").focus();
  }

  async function start(me) {
    state.me = me;
    if (!me || !MANAGER_ROLES.includes(me.role)) {
      showForbidden();
      return;
    }
    $("manager-name").textContent = me.name;
    $("login-view").hidden = true;
    $("forbidden-view").hidden = true;
    $("app-view").hidden = false;
    let users = [];
    try {
      users = await api("/api/v1/users");
    } catch (error) {
      handleError(error);
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return;
    }
    if (state.me !== me) return; // signed out meanwhile
    state.users = (Array.isArray(users) ? users : []).slice()
      .sort((a, b) => String(a.name).localeCompare(String(b.name), "en-GB"));
    fillAgentSelect();
    writeFilterForm(filtersFromUrl());
    state.inboxFilters = readInboxForm().filters;
    applyFilters(readFilterForm());
  }

  /* ---------- filters ---------- */

  function defaultFilters() {
    const today = new Date();
    const from = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 29);
    return {
      from: isoDate(from), to: isoDate(today), agent_id: "", category: "", priority: "", classification: "", owner: "",
    };
  }

  function filtersFromUrl() {
    const params = new URLSearchParams(location.search);
    const defaults = defaultFilters();
    const filters = { ...defaults };
    for (const key of FILTER_KEYS) {
      const value = params.get(key);
      if (value !== null) filters[key] = value;
    }
    if (!validDay(filters.from)) filters.from = defaults.from;
    if (!validDay(filters.to)) filters.to = defaults.to;
    return filters;
  }

  const FILTER_FIELDS = {
    from: "filter-from", to: "filter-to", agent_id: "filter-agent", category: "filter-category",
    priority: "filter-priority", classification: "filter-classification", owner: "filter-owner",
  };

  function setSelect(select, value) {
    const wanted = String(value ?? "");
    select.value = Array.from(select.options).some((o) => o.value === wanted) ? wanted : "";
  }

  function writeFilterForm(filters) {
    for (const [key, id] of Object.entries(FILTER_FIELDS)) {
      const field = $(id);
      if (field.tagName === "SELECT") setSelect(field, filters[key]);
      else field.value = filters[key] || "";
    }
  }

  function readFilterForm() {
    const filters = {};
    for (const [key, id] of Object.entries(FILTER_FIELDS)) filters[key] = $(id).value.trim();
    return filters;
  }

  function fillAgentSelect() {
    const select = $("filter-agent");
    const chosen = select.value;
    select.replaceChildren(option("", "All agents"));
    for (const user of state.users) {
      let label = user.name;
      if (user.role && user.role !== "agent") label += ` (${user.role})`;
      if (user.active === false) label += " — inactive";
      select.append(option(String(user.id), label));
    }
    setSelect(select, chosen);
  }

  function onApply(event) {
    event.preventDefault();
    const filters = readFilterForm();
    if (!validDay(filters.from) || !validDay(filters.to)) {
      showStatus("Choose a start and an end date.", "error");
      return;
    }
    if (filters.from > filters.to) {
      showStatus("The start date must be on or before the end date.", "error");
      return;
    }
    applyFilters(filters);
  }

  function applyFilters(filters) {
    state.applied = filters;
    state.inbox.offset = 0;
    const search = new URLSearchParams();
    for (const key of FILTER_KEYS) if (filters[key]) search.set(key, filters[key]);
    try {
      history.replaceState(null, "", `${location.pathname}?${search.toString()}`);
    } catch { /* the page still works without it */ }
    updateDownloads();
    loadAll();
  }

  /* ---------- loading ---------- */

  async function loadAll() {
    const gen = ++generation;
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
    if (gen !== generation) return; // a newer load, a sign-out or a 403 took over
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
  async function section(gen, fetcher, render, failed) {
    try {
      const data = await fetcher();
      if (gen === generation) render(data);
    } catch (error) {
      if (gen === generation && failed) failed(error);
      throw error;
    }
  }

  function clearDashboard() {
    for (const id of ["kpi-list", "alerts-list", "breaches-body", "recovery-body", "inbox-list", "themes-list",
      "chart-csat", "chart-speed", "chart-volume", "chart-sla"]) {
      $(id).replaceChildren();
    }
    for (const id of ["period", "breaches-note", "inbox-range", "themes-note", "updated", "manager-name"]) {
      $(id).textContent = "";
    }
    $("alerts").hidden = true;
    $("themes-empty").hidden = true;
    $("inbox-prev").disabled = true;
    $("inbox-next").disabled = true;
    $("dashboard").removeAttribute("aria-busy");
    delete document.body.dataset.loading;
  }

  /* ---------- alerts ---------- */

  function loadAlerts(gen) {
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

  /* ---------- KPI tiles ---------- */

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
    { key: "tickets", label: "Tickets", kind: "count", get: (s) => s?.volume?.tickets },
    { key: "feedback", label: "Feedback items", kind: "count", get: (s) => s?.volume?.feedback },
    { key: "complaints", label: "Complaints", kind: "count", better: "down", get: (s) => s?.volume?.complaints },
  ];

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

  function loadSummary(gen, filters) {
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

  /* ---------- trend charts ---------- */

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

  async function loadCharts(gen, filters) {
    const failures = await Promise.all(CHARTS.map(async (chart) => {
      const answers = await Promise.allSettled(chart.series.map((series) => api(
        `/api/v1/reports/timeseries${query({ metric: series.metric, interval: "day", ...reportParams(filters) })}`)));
      if (gen === generation) renderChart(chart, answers.map((a) => (a.status === "fulfilled" ? a.value : null)));
      const failed = answers.find((a) => a.status === "rejected");
      return failed ? failed.reason : null;
    }));
    const failure = failures.find(Boolean);
    if (failure) throw failure;
  }

  /** How a chart's values read: the scale of the y axis, its title, and the text of one value. */
  function chartUnit(chart, max) {
    if (chart.kind === "rate") {
      return { factor: 100, axis: chart.axis || "%", fixedTop: 100, tick: (v) => `${num(v)}%`, text: (v) => pct(v) };
    }
    if (chart.kind === "duration") {
      const hours = max >= 7200;
      return { factor: hours ? 1 / 3600 : 1 / 60, axis: hours ? "hours" : "minutes", tick: (v) => num(v, 2),
        text: duration };
    }
    return { factor: 1, axis: chart.axis || "count", integer: true, tick: (v) => num(v, 2), text: count };
  }

  /** A round top for the y axis and a step giving about four gridlines. */
  function niceScale(max, integer) {
    if (!(max > 0)) return integer ? { top: 4, step: 1 } : { top: 1, step: 0.25 };
    const raw = max / 4;
    const magnitude = 10 ** Math.floor(Math.log10(raw));
    const norm = raw / magnitude;
    let step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10) * magnitude;
    if (integer) step = Math.max(1, Math.ceil(step));
    return { top: Math.ceil(max / step - 1e-9) * step, step };
  }

  /** Up to `most` evenly spread indexes out of n, always the first and the last. */
  function tickIndexes(n, most) {
    if (n <= most) return Array.from({ length: n }, (_, i) => i);
    const out = new Set();
    for (let k = 0; k < most; k += 1) out.add(Math.round((k * (n - 1)) / (most - 1)));
    return [...out];
  }

  function chartSummary(chart, days, lines, unit) {
    const parts = [`${chart.title}, daily from ${dayLabel(days[0])} to ${dayLabel(days[days.length - 1])}.`];
    for (const line of lines) {
      if (line.failed) {
        parts.push(`${line.label}: could not be loaded.`);
        continue;
      }
      const known = [];
      line.values.forEach((value, index) => { if (value !== null) known.push([value, index]); });
      if (!known.length) {
        parts.push(`${line.label}: no data.`);
        continue;
      }
      const values = known.map(([value]) => value);
      const [lastValue, lastIndex] = known[known.length - 1];
      const gaps = days.length - known.length;
      parts.push(`${line.label}: from ${unit.text(Math.min(...values))} to ${unit.text(Math.max(...values))}, `
        + `latest ${unit.text(lastValue)} on ${dayLabel(days[lastIndex])}`
        + `${gaps ? `, ${gaps} ${gaps === 1 ? "day" : "days"} without data` : ""}.`);
    }
    return parts.join(" ");
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

  function chartSvg(chart, days, lines) {
    const W = 640;
    const H = 270;
    const M = { top: 40, right: 20, bottom: 48, left: 62 };
    const plotW = W - M.left - M.right;
    const plotH = H - M.top - M.bottom;
    const known = lines.flatMap((line) => line.values).filter(isNum);
    const max = known.length ? Math.max(...known) : 0;
    const unit = chartUnit(chart, max);
    const scale = unit.fixedTop ? { top: unit.fixedTop, step: 25 } : niceScale(max * unit.factor, unit.integer);
    const n = days.length;
    const round = (v) => Math.round(v * 10) / 10;
    const x = (i) => round(M.left + (n === 1 ? plotW / 2 : (i * plotW) / (n - 1)));
    const y = (v) => round(M.top + plotH - Math.min(1, Math.max(0, (v * unit.factor) / scale.top)) * plotH);

    const root = svgEl("svg", {
      class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": chartSummary(chart, days, lines, unit),
      "data-testid": "chart", "data-chart": chart.key, preserveAspectRatio: "xMidYMid meet", focusable: "false",
    });

    // Horizontal gridlines with the y axis values.
    const grid = svgEl("g", { class: "grid" });
    const steps = Math.round(scale.top / scale.step);
    for (let k = 0; k <= steps; k += 1) {
      const value = k * scale.step;
      const yy = round(M.top + plotH - (value / scale.top) * plotH);
      grid.append(svgEl("line", { x1: M.left, x2: M.left + plotW, y1: yy, y2: yy, class: k ? "gridline" : "axis" }));
      grid.append(svgEl("text", { x: M.left - 8, y: yy + 4, "text-anchor": "end", class: "tick" }, unit.tick(value)));
    }
    root.append(grid);

    // The y axis title, turned on its side.
    const middle = M.top + plotH / 2;
    root.append(svgEl("text", {
      x: 14, y: middle, transform: `rotate(-90 14 ${middle})`, "text-anchor": "middle", class: "axis-title",
    }, unit.axis));

    // The x axis: some days, and its title.
    const xAxis = svgEl("g", { class: "x-axis" });
    for (const i of tickIndexes(n, 7)) {
      const xx = x(i);
      xAxis.append(svgEl("line", { x1: xx, x2: xx, y1: M.top + plotH, y2: M.top + plotH + 5, class: "axis" }));
      const anchor = n > 1 && i === 0 ? "start" : n > 1 && i === n - 1 ? "end" : "middle";
      xAxis.append(svgEl("text", { x: xx, y: M.top + plotH + 19, "text-anchor": anchor, class: "tick" },
        dayLabel(days[i], false)));
    }
    xAxis.append(svgEl("text", { x: M.left + plotW / 2, y: H - 6, "text-anchor": "middle", class: "axis-title" }, "Day"));
    root.append(xAxis);

    // The legend, along the top.
    const legend = svgEl("g", { class: "legend" });
    let lx = M.left;
    lines.forEach((line, i) => {
      legend.append(svgEl("line", {
        x1: lx, x2: lx + 22, y1: 14, y2: 14, stroke: SERIES_COLOURS[i % SERIES_COLOURS.length], "stroke-width": 3,
        "stroke-dasharray": SERIES_DASHES[i % SERIES_DASHES.length],
      }));
      const label = line.failed ? `${line.label} (not loaded)` : line.label;
      legend.append(svgEl("text", { x: lx + 28, y: 18, class: "legend-text" }, label));
      lx += 28 + label.length * 7 + 20;
    });
    root.append(legend);

    // The lines: a gap wherever a day has no value; a dot on each day (or on a lone one).
    lines.forEach((line, i) => {
      const colour = SERIES_COLOURS[i % SERIES_COLOURS.length];
      const group = svgEl("g", { class: "series" });
      let d = "";
      let run = 0;
      line.values.forEach((value, j) => {
        if (value === null) {
          run = 0;
          return;
        }
        d += `${run ? "L" : "M"}${x(j)} ${y(value)} `;
        run += 1;
      });
      if (d) {
        group.append(svgEl("path", {
          d: d.trim(), fill: "none", stroke: colour, "stroke-width": 2, "stroke-linejoin": "round",
          "stroke-linecap": "round", "stroke-dasharray": SERIES_DASHES[i % SERIES_DASHES.length],
        }));
      }
      line.values.forEach((value, j) => {
        if (value === null) return;
        const alone = (j === 0 || line.values[j - 1] === null) && (j === n - 1 || line.values[j + 1] === null);
        if (n > 62 && !alone) return;
        const dot = svgEl("circle", { cx: x(j), cy: y(value), r: alone ? 3.5 : 2.5, fill: colour });
        dot.append(svgEl("title", {}, `${dayLabel(days[j])} — ${line.label}: ${unit.text(value)}`));
        group.append(dot);
      });
      root.append(group);
    });
    return root;
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

  /* ---------- SLA breaches and recovery items ---------- */

  function loadBreaches(gen, filters) {
    return section(gen, () => api(`/api/v1/reports/breaches${query(reportParams(filters, false))}`), renderBreaches,
      () => {
        $("breaches-body").replaceChildren(emptyRow(7, "The SLA watch could not be loaded."));
        $("recovery-body").replaceChildren(emptyRow(5, "The recovery items could not be loaded."));
      });
  }

  function emptyRow(columns, text) {
    const row = el("tr", "empty-row");
    const cell = el("td", "empty", text);
    cell.colSpan = columns;
    row.append(cell);
    return row;
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

  function renderRecovery() {
    const body = $("recovery-body");
    body.replaceChildren();
    if (!state.recovery.length) body.append(emptyRow(5, "No recovery item is open."));
    for (const item of state.recovery) body.append(recoveryRow(item));
  }

  function ownerSelect(id, ownerId, ownerName, labelText) {
    const wrap = document.createDocumentFragment();
    const select = el("select", "owner-select");
    select.id = id;
    select.append(option("", "No owner"));
    let found = false;
    for (const user of state.users) {
      if (user.active === false && user.id !== ownerId) continue;
      select.append(option(String(user.id), user.name));
      if (user.id === ownerId) found = true;
    }
    if (ownerId !== null && ownerId !== undefined && !found) {
      select.append(option(String(ownerId), ownerName || `Staff #${ownerId}`));
    }
    select.value = ownerId === null || ownerId === undefined ? "" : String(ownerId);
    wrap.append(visuallyHiddenLabel(id, labelText), select);
    return { fragment: wrap, select };
  }

  function recoveryRow(item) {
    const row = el("tr", item.overdue ? "overdue" : "");
    row.dataset.testid = "recovery-row";
    row.dataset.id = String(item.id);
    row.dataset.overdue = String(Boolean(item.overdue));
    row.dataset.status = item.status;

    const reason = el("th", "reason");
    reason.scope = "row";
    reason.append(el("span", "", capitalise(item.reason)));
    const origin = [item.source ? capitalise(String(item.source).replace(/_/g, " ")) : "",
      item.conversation_id ? `chat ${item.conversation_id}` : "", `opened ${dateTime(item.created_at)}`].filter(Boolean);
    reason.append(el("span", "sub", origin.join(" · ")));

    const ownerCell = el("td");
    const owner = ownerSelect(`recovery-${item.id}-owner`, item.owner_id, item.owner_name,
      `Owner of recovery item: ${item.reason}`);
    owner.select.dataset.testid = "recovery-owner";
    owner.select.dataset.role = "owner";
    owner.select.addEventListener("change", () => {
      const value = owner.select.value;
      patchRecovery(item, { owner_id: value ? Number(value) : null },
        value ? `Owner set to ${owner.select.selectedOptions[0].textContent}.` : "Owner removed.", "owner");
    });
    ownerCell.append(owner.fragment);

    const due = el("td", "nowrap");
    due.append(el("span", "", dateTime(item.due_at)));
    if (item.overdue) {
      due.append(" ");
      const flag = badge("Overdue", "overdue");
      flag.dataset.testid = "recovery-overdue";
      due.append(flag);
    }

    const status = el("td");
    status.append(badge(capitalise(item.status), `status-${item.status}`));

    const actions = el("td");
    const box = el("div", "row-actions");
    const contacted = button("Mark contacted", "", "recovery-contacted");
    contacted.dataset.role = "contacted";
    contacted.disabled = item.status === "contacted";
    contacted.addEventListener("click", () => patchRecovery(item, { status: "contacted" },
      "Recovery item marked contacted.", "contacted"));
    const outcomeId = `recovery-${item.id}-outcome`;
    const outcome = el("input", "outcome");
    outcome.id = outcomeId;
    outcome.type = "text";
    outcome.maxLength = 5000;
    outcome.placeholder = "Outcome";
    outcome.dataset.testid = "recovery-outcome";
    outcome.dataset.role = "outcome";
    const close = button("Close", "", "recovery-close");
    close.dataset.role = "close";
    const closeItem = () => {
      const text = outcome.value.trim();
      const body = { status: "closed" };
      if (text) body.outcome = text;
      patchRecovery(item, body, "Recovery item closed.", "close");
    };
    close.addEventListener("click", closeItem);
    outcome.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        closeItem();
      }
    });
    box.append(contacted, visuallyHiddenLabel(outcomeId, `Outcome for recovery item: ${item.reason}`), outcome, close);
    actions.append(box);

    row.append(reason, ownerCell, due, status, actions);
    return row;
  }

  function recoveryRowOf(id) {
    return Array.from($("recovery-body").children).find((row) => row.dataset.id === String(id)) || null;
  }

  function setRowBusy(row, busy) {
    if (!row) return;
    row.setAttribute("aria-busy", String(busy));
    for (const control of row.querySelectorAll("button, select, input, textarea")) {
      if (busy) {
        control.dataset.wasDisabled = String(control.disabled);
        control.disabled = true;
      } else {
        control.disabled = control.dataset.wasDisabled === "true";
        delete control.dataset.wasDisabled;
      }
    }
  }

  async function patchRecovery(item, body, done, focusRole) {
    const row = recoveryRowOf(item.id);
    setRowBusy(row, true);
    let updated;
    try {
      updated = await api(`/api/v1/recovery-items/${encodeURIComponent(item.id)}`, { method: "PATCH", json: body });
    } catch (error) {
      setRowBusy(row, false);
      if (row) {
        const select = row.querySelector("select");
        if (select && "owner_id" in body) {
          select.value = item.owner_id === null || item.owner_id === undefined ? "" : String(item.owner_id);
        }
      }
      handleError(error);
      return;
    }
    const index = state.recovery.findIndex((one) => one.id === item.id);
    if (updated.status === "closed") {
      if (index >= 0) state.recovery.splice(index, 1);
      if (row) row.remove();
      if (!state.recovery.length) $("recovery-body").replaceChildren(emptyRow(5, "No recovery item is open."));
      $("recovery-heading").focus();
    } else {
      if (index >= 0) state.recovery[index] = updated;
      const fresh = recoveryRow(updated);
      if (row) row.replaceWith(fresh);
      const target = fresh.querySelector(`[data-role="${focusRole}"]`);
      if (target && !target.disabled) target.focus();
      else fresh.querySelector("select")?.focus();
    }
    showStatus(done);
  }

  /* ---------- feedback inbox ---------- */

  function readInboxForm() {
    const minText = $("inbox-min-score").value.trim();
    const maxText = $("inbox-max-score").value.trim();
    const score = (text) => (text === "" ? "" : Number(text));
    const filters = {
      kind: $("inbox-kind").value,
      category: $("inbox-category").value,
      min_score: score(minText),
      max_score: score(maxText),
      status: $("inbox-status").value,
      q: $("inbox-q").value.trim(),
    };
    for (const key of ["min_score", "max_score"]) {
      const value = filters[key];
      if (value !== "" && !(Number.isInteger(value) && value >= 0 && value <= 10)) {
        return { error: "Scores are whole numbers from 0 to 10." };
      }
    }
    if (filters.min_score !== "" && filters.max_score !== "" && filters.min_score > filters.max_score) {
      return { error: "The minimum score must not be above the maximum." };
    }
    return { filters };
  }

  function onInboxSearch(event) {
    event.preventDefault();
    const { filters, error } = readInboxForm();
    if (error) {
      showStatus(error, "error");
      return;
    }
    if (!state.applied) return;
    state.inboxFilters = filters;
    state.inbox.offset = 0;
    refreshInbox();
  }

  function pageInbox(direction) {
    if (!state.applied) return;
    const offset = state.inbox.offset + direction * INBOX_LIMIT;
    state.inbox.offset = Math.max(0, offset);
    refreshInbox(direction > 0 ? "inbox-next" : "inbox-prev");
  }

  async function refreshInbox(focusId) {
    try {
      await loadInbox();
    } catch (error) {
      handleError(error);
    }
    if (focusId && !$(focusId).disabled) $(focusId).focus();
  }

  async function loadInbox() {
    const gen = ++inboxGeneration;
    const filters = state.applied;
    const own = state.inboxFilters || {};
    const params = {
      from: filters.from, to: filters.to, agent_id: filters.agent_id,
      kind: own.kind, category: own.category, min_score: own.min_score, max_score: own.max_score,
      status: own.status, q: own.q, limit: INBOX_LIMIT, offset: state.inbox.offset,
    };
    $("inbox-list").setAttribute("aria-busy", "true");
    let page;
    try {
      page = await api(`/api/v1/inbox${query(params)}`);
    } catch (error) {
      if (gen === inboxGeneration) {
        $("inbox-list").removeAttribute("aria-busy");
        $("inbox-list").replaceChildren(el("li", "empty", "The inbox could not be loaded."));
        $("inbox-range").textContent = "";
        $("inbox-prev").disabled = state.inbox.offset === 0;
        $("inbox-next").disabled = true;
      }
      throw error;
    }
    if (gen !== inboxGeneration) return;
    $("inbox-list").removeAttribute("aria-busy");
    state.inbox = {
      offset: Number.isInteger(page.offset) ? page.offset : state.inbox.offset,
      total: Number(page.total) || 0,
      items: Array.isArray(page.items) ? page.items : [],
    };
    renderInbox();
    state.inboxLoads += 1;
    document.body.dataset.inboxLoaded = String(state.inboxLoads);
  }

  function renderInbox() {
    const { offset, total, items } = state.inbox;
    const list = $("inbox-list");
    list.replaceChildren();
    for (const item of items) list.append(inboxItem(item));
    if (!items.length) list.append(el("li", "empty", total ? "No more items on this page." : "No item matches these filters."));
    $("inbox-range").textContent = items.length
      ? `${num(offset + 1)}–${num(offset + items.length)} of ${num(total)}`
      : `0 of ${num(total)}`;
    $("inbox-prev").disabled = offset <= 0;
    $("inbox-next").disabled = offset + items.length >= total;
  }

  const itemKey = (item) => `${item.kind}-${item.id}`;

  function inboxItem(item) {
    const key = itemKey(item);
    const li = el("li", `inbox-item status-${item.status}`);
    li.dataset.testid = "inbox-item";
    li.dataset.key = key;
    li.dataset.kind = item.kind;
    li.dataset.id = String(item.id);
    li.dataset.status = item.status;

    const top = el("div", "item-top");
    const badges = el("div", "badges");
    badges.append(badge(item.kind === "survey" ? "Survey comment" : "Feedback", "kind"));
    if (item.category && item.category !== "survey_comment") {
      badges.append(badge(categoryLabel(item.category), item.category === "complaint" ? "overdue" : ""));
    }
    if (isNum(item.score)) {
      const score = badge(`Score ${num(item.score)}`, "score");
      score.dataset.testid = "inbox-score";
      badges.append(score);
    }
    const status = badge(capitalise(item.status), `status-${item.status}`);
    status.dataset.testid = "inbox-status-badge";
    badges.append(status);
    top.append(badges, el("span", "when", dateTime(item.at)));

    const text = el("p", "inbox-text", item.text);
    text.dataset.testid = "inbox-text";

    const meta = el("p", "item-meta");
    // Only feedback given anonymously is "anonymous"; a survey without an e-mail is just unknown.
    const who = item.customer || (item.anonymous ? "anonymous" : "—");
    const parts = [`Customer: ${who}`, `Agent: ${item.agent || "—"}`];
    if (item.conversation_id) parts.push(`Chat: ${item.conversation_id}`);
    meta.textContent = parts.join(" · ");

    li.append(top, text, meta);

    const done = [];
    if (item.reviewed_at) done.push(`Reviewed ${dateTime(item.reviewed_at)}`);
    if (item.owner_name) done.push(`Owner: ${item.owner_name}`);
    if (item.due_at) done.push(`Due ${dateTime(item.due_at)}`);
    if (done.length) li.append(el("p", "item-meta", done.join(" · ")));

    const controls = el("div", "inbox-controls");

    const reviewed = Boolean(item.reviewed_at);
    const toggle = button("Mark reviewed", "toggle", "inbox-reviewed");
    toggle.dataset.role = "reviewed";
    toggle.setAttribute("aria-pressed", String(reviewed));
    toggle.addEventListener("click", () => saveInbox(item, { reviewed: !reviewed },
      reviewed ? "Marked not reviewed." : "Marked reviewed.", "reviewed"));

    const ownerField = el("div", "field");
    const owner = ownerSelect(`inbox-${key}-owner`, item.owner_id, item.owner_name, "Owner");
    owner.select.dataset.testid = "inbox-owner";
    owner.select.dataset.role = "owner";
    ownerField.append(owner.fragment);
    ownerField.querySelector("label").className = "";

    const dueField = el("div", "field");
    const dueId = `inbox-${key}-due`;
    const dueLabel = el("label", "", "Due date");
    dueLabel.htmlFor = dueId;
    const due = el("input");
    due.id = dueId;
    due.type = "date";
    due.value = localDay(item.due_at);
    due.dataset.testid = "inbox-due";
    due.dataset.role = "due";
    dueField.append(dueLabel, due);

    const noteField = el("div", "field field-note");
    const noteId = `inbox-${key}-note`;
    const noteLabel = el("label", "", "Action taken");
    noteLabel.htmlFor = noteId;
    const note = el("textarea");
    note.id = noteId;
    note.rows = 2;
    note.maxLength = 5000;
    note.value = item.action_note || "";
    note.dataset.testid = "inbox-note";
    note.dataset.role = "note";
    noteField.append(noteLabel, note);

    const save = button("Save", "primary", "inbox-save");
    save.dataset.role = "save";
    save.addEventListener("click", () => {
      const body = {};
      const ownerValue = owner.select.value;
      const ownerBefore = item.owner_id === null || item.owner_id === undefined ? "" : String(item.owner_id);
      if (ownerValue !== ownerBefore) body.owner_id = ownerValue ? Number(ownerValue) : null;
      if (due.value !== localDay(item.due_at)) {
        if (!due.value) {
          showStatus("A due date cannot be removed here; choose another date instead.", "error");
          return;
        }
        body.due_at = endOfDay(due.value);
      }
      if (note.value !== (item.action_note || "")) body.action_note = note.value;
      if (!Object.keys(body).length) {
        showStatus("Nothing to save: nothing has changed.");
        return;
      }
      saveInbox(item, body, "Saved.", "save");
    });

    const saveRow = el("div", "save-row");
    saveRow.append(toggle, save);
    controls.append(ownerField, dueField, noteField, saveRow);
    li.append(controls);
    return li;
  }

  async function saveInbox(item, body, done, focusRole) {
    const li = Array.from($("inbox-list").children).find((one) => one.dataset.key === itemKey(item)) || null;
    setRowBusy(li, true);
    let updated;
    try {
      updated = await api(`/api/v1/inbox/${encodeURIComponent(item.kind)}/${encodeURIComponent(item.id)}`,
        { method: "PATCH", json: body });
    } catch (error) {
      setRowBusy(li, false);
      handleError(error);
      return;
    }
    const index = state.inbox.items.findIndex((one) => itemKey(one) === itemKey(item));
    if (index >= 0) state.inbox.items[index] = updated;
    const fresh = inboxItem(updated);
    if (li && li.isConnected) {
      li.replaceWith(fresh);
      fresh.querySelector(`[data-role="${focusRole}"]`)?.focus();
    }
    showStatus(done);
  }

  /* ---------- themes ---------- */

  function loadThemes(gen, filters) {
    return section(gen, () => api(`/api/v1/reports/themes${query(reportParams(filters))}`), renderThemes, () => {
      $("themes-list").replaceChildren();
      $("themes-note").textContent = "The themes could not be loaded.";
      $("themes-empty").hidden = true;
    });
  }

  function renderThemes(data) {
    const list = $("themes-list");
    list.replaceChildren();
    const comments = Array.isArray(data.comments) ? data.comments : [];
    const themes = Array.isArray(data.themes) ? data.themes : [];
    const byId = new Map(comments.map((comment) => [comment.response_id, comment]));
    $("themes-note").textContent = `Words and phrases in the comments of surveys scoring ${count(data.max_score)} or `
      + `less on the first question (${num(comments.length)} ${comments.length === 1 ? "comment" : "comments"}). `
      + "Choose one to read its comments.";
    themes.forEach((theme, i) => {
      const li = el("li", "theme");
      li.dataset.term = theme.term;
      const panelId = `theme-${i}-comments`;
      const toggle = button("", "theme-button", "theme");
      toggle.setAttribute("aria-expanded", "false");
      toggle.setAttribute("aria-controls", panelId);
      toggle.append(el("span", "theme-term", theme.term),
        el("span", "theme-count", `${num(theme.comments)} ${theme.comments === 1 ? "comment" : "comments"}`));
      const panel = el("div", "theme-comments");
      panel.id = panelId;
      panel.hidden = true;
      panel.dataset.testid = "theme-comments";
      toggle.addEventListener("click", () => {
        const open = toggle.getAttribute("aria-expanded") !== "true";
        if (open && !panel.childElementCount) fillThemePanel(panel, theme, byId);
        toggle.setAttribute("aria-expanded", String(open));
        panel.hidden = !open;
      });
      li.append(toggle, panel);
      list.append(li);
    });
    $("themes-empty").hidden = themes.length > 0;
  }

  function fillThemePanel(panel, theme, byId) {
    const ids = Array.isArray(theme.response_ids) ? theme.response_ids : [];
    const found = ids.map((id) => byId.get(id)).filter(Boolean);
    const list = el("ul", "comments");
    list.setAttribute("aria-label", `Comments using “${theme.term}”`);
    for (const comment of found) {
      const li = el("li", "comment");
      li.dataset.testid = "theme-comment";
      li.dataset.responseId = String(comment.response_id);
      const meta = [`Score ${count(comment.score)}`, dateTime(comment.answered_at)];
      if (comment.conversation_id) meta.push(`chat ${comment.conversation_id}`);
      li.append(el("p", "item-meta", meta.join(" · ")), el("p", "comment-text", comment.text));
      list.append(li);
    }
    if (found.length) panel.append(list);
    const missing = ids.length - found.length;
    if (missing > 0) {
      panel.append(el("p", "empty", `${num(missing)} more ${missing === 1 ? "comment is" : "comments are"} not shown.`));
    }
    if (!ids.length) panel.append(el("p", "empty", "No comment to show."));
  }

  /* ---------- downloads ---------- */

  function buildDownloads() {
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

  function updateDownloads() {
    const filters = state.applied || defaultFilters();
    const redact = $("redact").checked;
    for (const link of $("downloads-body").querySelectorAll("a.download")) {
      link.href = `/api/v1/exports/${link.dataset.dataset}${query({
        format: link.dataset.format, ...reportParams(filters), redact: redact ? "true" : undefined,
      })}`;
    }
  }

  /* ---------- start ---------- */

  function bindEvents() {
    $("login-form").addEventListener("submit", login);
    $("sign-out").addEventListener("click", signOut);
    $("forbidden-sign-out").addEventListener("click", signOut);
    $("filters").addEventListener("submit", onApply);
    $("inbox-filters").addEventListener("submit", onInboxSearch);
    $("inbox-prev").addEventListener("click", () => pageInbox(-1));
    $("inbox-next").addEventListener("click", () => pageInbox(1));
    $("redact").addEventListener("change", updateDownloads);
  }

  async function boot() {
    bindEvents();
    buildDownloads();
    updateDownloads();
    try { state.token = sessionStorage.getItem(TOKEN_KEY); } catch { state.token = null; }
    // With a stored token, or only the HttpOnly cookie, we may still be signed in.
    let me = null;
    try {
      me = await api("/api/v1/auth/me", { quiet401: true });
    } catch (error) {
      if (error instanceof ApiError && error.status !== 401) showStatus(error.message, "error");
    }
    if (me) {
      await start(me);
    } else {
      saveToken(null);
      showLogin();
    }
  }

  boot();
})();
