/** What every part of the agent console shares: what it knows, its sign-in and API caller, and
 * its status line. */
import { ApiError } from "../staff/api.js";
import { staffSignIn } from "../staff/signin.js";
import { statusLine } from "../staff/status.js";

const STATUS_MS = 8000; // how long a message stays in the status area

export const state = {
  queue: [], // queued handoffs, in queue order
  mine: [], // handoffs this agent holds
  seenInMine: new Set(), // ids that a "mine" update has listed (see setMine)
  unread: new Set(), // my chats with lines I have not looked at
  clockSkewMs: 0, // this browser's clock minus the server's
  canned: [],
  open: null, // {id, handoff, rendered: Set of message ids, tickets: []}
};

export const showStatus = statusLine("console-status", { infoMs: STATUS_MS, errorMs: STATUS_MS * 1.5 });

export function showError(error) {
  showStatus(error.message || String(error), "error");
}

/** The sign-in (session.me: the agent, UserOut) and the API caller: a 401 brings the login view back. */
export const signIn = staffSignIn({ tokenKey: "support-console:token", showStatus });
export const { api, session } = signIn;

/** Run an action; show its error in the status area. Returns undefined on failure. */
export async function attempt(action) {
  try {
    return await action();
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) showError(error);
    return undefined;
  }
}
