/** The link a customer followed from one of our e-mails: its token (after the #, so it reaches no server
 * log; kept for this tab so a reload works, and taken out of the address bar) and the calls made with it. */

const KEY = "ticket-link";
const fromLink = new URLSearchParams(location.hash.slice(1)).get("token");
if (fromLink) {
  sessionStorage.setItem(KEY, fromLink);
  history.replaceState(null, "", location.pathname);
}

export const token = sessionStorage.getItem(KEY);

/** A call to /api/v1/ticket-page<path> with the link's token: the answer's JSON, or an Error saying why not. */
export async function call(path, { method = "GET", json } = {}) {
  const headers = { Authorization: `Bearer ${token}` };
  if (json !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`/api/v1/ticket-page${path}`, {
    method, headers, body: json === undefined ? undefined : JSON.stringify(json),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.detail || `The server answered ${response.status}.`);
  return body;
}
