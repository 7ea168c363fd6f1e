/** The page a one-time password-reset link opens: the token is after the # (it reaches no server
 * log), the new password is typed twice, and the API says whether the link still works. */
import { ApiError, apiClient } from "./api.js";

const form = document.getElementById("reset-form");
const note = document.getElementById("reset-note");
const password = document.getElementById("reset-password");
const again = document.getElementById("reset-again");
const submit = document.getElementById("reset-submit");
const token = new URLSearchParams(location.hash.slice(1)).get("token");
// Out of the address bar and the history once read.
history.replaceState(null, "", location.pathname);

const api = apiClient({ token: () => null, signedIn: () => false, signedOut: () => {} });

function say(text) {
  note.textContent = text;
}

if (!token) {
  say("This page needs the whole link you were given, including the part after #.");
  submit.disabled = true;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (password.value !== again.value) {
    say("The two passwords differ.");
    return;
  }
  submit.disabled = true;
  try {
    await api("/api/v1/auth/reset", { method: "POST", json: { token, password: password.value }, quiet401: true });
    form.replaceChildren();
    const done = document.createElement("p");
    done.dataset.testid = "reset-done";
    done.append("Your password is saved. ");
    const link = document.createElement("a");
    link.href = "/agent";
    link.textContent = "Sign in";
    done.append(link);
    form.append(done);
  } catch (error) {
    say(error instanceof ApiError ? error.message : "We can't reach the server right now. Please try again.");
    submit.disabled = false;
  }
});
