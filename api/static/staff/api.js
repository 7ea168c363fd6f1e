/** Calling the API from a staff page: the sign-in's bearer token, JSON or form bodies, one
 * readable line for any refusal, and a 401 while signed in reported to the page. */

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

/**
 * FastAPI's `detail` is a string, or for 422 a list of {loc, msg}; make it one readable line.
 * `forbidden`: what to say for a 403 without a detail of its own.
 */
function detailText(data, status, forbidden) {
  const detail = data && data.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail.map((d) => {
      const field = Array.isArray(d.loc) ? d.loc[d.loc.length - 1] : "";
      const msg = String(d.msg || "").replace(/^Value error, /, "");
      return field && field !== "body" ? `${field}: ${msg}` : msg;
    }).join("; ");
  }
  if (status === 403 && forbidden) return forbidden;
  return `The server answered ${status}.`;
}

/**
 * An API caller for a page. `token()` is the access token (or null: the cookie alone);
 * `signedIn()` whether someone is signed in; `signedOut(message)` is called on a 401 while
 * signed in, unless the call says `quiet401` (the sign-in itself).
 * The caller: `json` sends a JSON body, `form` a urlencoded one; the answer's JSON, or null.
 */
export function apiClient({ token, signedIn, signedOut, forbidden, headers: extra = {} }) {
  return async function api(path, { method = "GET", json, form, quiet401 = false } = {}) {
    const headers = { ...extra };
    let body;
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    } else if (form) {
      body = new URLSearchParams(form);
    }
    const current = token();
    if (current) headers.Authorization = "Bearer " + current;
    let response;
    try {
      response = await fetch(path, { method, headers, body, credentials: "same-origin" });
    } catch {
      throw new ApiError(0, "The server cannot be reached; check the connection.");
    }
    let data = null;
    if (response.status !== 204) {
      try { data = await response.json(); } catch { /* not JSON */ }
    }
    if (!response.ok) {
      const error = new ApiError(response.status, detailText(data, response.status, forbidden));
      if (response.status === 401 && !quiet401 && signedIn()) signedOut(error.message);
      throw error;
    }
    return data;
  };
}
