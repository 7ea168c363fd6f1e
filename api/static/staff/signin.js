/** Signing staff in and out, the same on every staff page: the password form (the server sets
 * an HttpOnly cookie, and the access token is also kept in sessionStorage for the Authorization
 * header), picking a sign-in up again on load, and going back to the form on sign-out or a 401. */
import { ApiError, apiClient } from "./api.js";
import { $ } from "./dom.js";

/**
 * `tokenKey`: where the token is kept; `showStatus`: the page's status line; `forbidden`,
 * `headers`: for the API caller; `expiredText`: what to say when a call finds the sign-in
 * gone (else the server's own words). Returns the page's `api` and its `session` {token, me}.
 */
export function staffSignIn({ tokenKey, showStatus, forbidden, headers, expiredText }) {
  const session = { token: null, me: null };
  let hooks = { start: async () => {}, reset: () => {}, beforeSignOut: async () => {} };

  const api = apiClient({
    token: () => session.token, signedIn: () => Boolean(session.me), forbidden, headers,
    signedOut: (message) => signedOut(expiredText || message),
  });

  function saveToken(token) {
    session.token = token || null;
    try {
      if (token) sessionStorage.setItem(tokenKey, token);
      else sessionStorage.removeItem(tokenKey);
    } catch { /* the cookie still works */ }
  }

  function showLogin() {
    for (const id of ["app-view", "forbidden-view"]) {
      const view = $(id);
      if (view) view.hidden = true;
    }
    $("login-view").hidden = false;
    $("login-email").focus();
  }

  async function begin(me, freshLogin) {
    session.me = me;
    await hooks.start(me, freshLogin);
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
      await begin(data.user || await api("/api/v1/auth/me", { quiet401: true }), true);
    } catch (error) {
      showStatus(error.message || String(error), "error");
    } finally {
      submit.disabled = false;
    }
  }

  async function signOut() {
    await hooks.beforeSignOut();
    await api("/api/v1/auth/logout", { method: "POST", quiet401: true }).catch(() => {});
    signedOut("Signed out.");
  }

  /** Forget the sign-in and everything shown, and go back to the login view. */
  function signedOut(message) {
    hooks.reset();
    saveToken(null);
    session.me = null;
    showLogin();
    if (message) showStatus(message, "info");
  }

  /**
   * Wire the form and #sign-out, then carry on with a stored token or the cookie alone, or show
   * the form. `start(me, freshLogin)` opens the page for someone; `reset()` clears what it shows;
   * `beforeSignOut()` runs before the server forgets the sign-in.
   */
  async function boot({ start, reset, beforeSignOut }) {
    hooks = { ...hooks, start, reset, ...(beforeSignOut ? { beforeSignOut } : {}) };
    $("login-form").addEventListener("submit", login);
    $("sign-out").addEventListener("click", signOut);
    try { session.token = sessionStorage.getItem(tokenKey); } catch { session.token = null; }
    let me = null;
    try {
      me = await api("/api/v1/auth/me", { quiet401: true });
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) showStatus(error.message, "error");
    }
    if (me) {
      await begin(me, false);
    } else {
      saveToken(null);
      showLogin();
    }
  }

  return { session, api, boot, signOut, signedOut };
}
