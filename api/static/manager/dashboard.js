/** What every part of the manager dashboard shares: what it knows, its sign-in and API caller,
 * its status line, and the report filters as query parameters. */
import { staffSignIn } from "../staff/signin.js";
import { statusLine } from "../staff/status.js";

export const FORBIDDEN_TEXT = "This page needs the manager role.";

export const state = {
  users: [], // every staff account, by name
  categoryLabels: {}, // ticket and feedback category key -> label, from GET /api/v1/config
  applied: null, // the report filters in force: {from, to, agent_id, category, ...}; "" = all
  inboxFilters: null, // the inbox's own filters in force
  inbox: { offset: 0, total: 0, items: [] },
  recovery: [], // open recovery items shown
  loads: 0, // full loads completed
  inboxLoads: 0,
  generation: 0, // a newer full load (or a sign-out) makes older answers stale
  inboxGeneration: 0,
};

export const showStatus = statusLine("status", { infoMs: 8000, errorMs: 20000 });

/** The sign-in (session.me: the manager, UserOut) and the API caller: a 401 brings the login view back. */
export const signIn = staffSignIn({
  tokenKey: "support-manager:token", showStatus, forbidden: FORBIDDEN_TEXT, headers: { Accept: "application/json" },
  expiredText: "Your sign-in has ended: please sign in again.",
});
export const { api, session } = signIn;

/** "?a=1&b=2" for the parameters that have a value; "" when none has. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** The report filters as query parameters (the breaches have no period). */
export function reportParams(filters, withDates = true) {
  return {
    from: withDates ? filters.from : undefined,
    to: withDates ? filters.to : undefined,
    agent_id: filters.agent_id,
    category: filters.category,
    priority: filters.priority,
    classification: filters.classification,
    owner: filters.owner,
    channel: filters.channel,
  };
}
