/** Staff accounts (/admin): an admin invites people, disables and enables accounts, changes roles and
 * hands out password-reset links. Every change but an invitation ends that person's sessions. */
import { staffSignIn } from "../staff/signin.js";
import { statusLine } from "../staff/status.js";
import { $, button, el, option } from "../staff/dom.js";

const ROLES = ["agent", "manager", "admin"];
const showStatus = statusLine("status", { infoMs: 8000, errorMs: 20000 });
const signIn = staffSignIn({
  tokenKey: "support-admin:token", showStatus, forbidden: "This page needs the admin role.",
  headers: { Accept: "application/json" }, expiredText: "Your sign-in has ended: please sign in again.",
});
const { api, session } = signIn;

function showLink(whom, answer) {
  $("link-for").textContent = `One-time link for ${whom} (until ${new Date(answer.expires_at).toLocaleString("en-GB")}):`;
  $("link").textContent = answer.link;
  $("link-box").hidden = false;
}

async function change(user, body, done) {
  try {
    await api(`/api/v1/users/${user.id}`, { method: "PATCH", json: body });
    showStatus(done, "info");
  } catch (error) {
    showStatus(error.message, "error");
  }
  await load();
}

function row(user) {
  const tr = el("tr");
  tr.dataset.testid = "user-row";
  tr.dataset.email = user.email;
  tr.append(el("td", "", user.name), el("td", "", user.email));
  const role = el("select");
  role.dataset.testid = "user-role";
  role.setAttribute("aria-label", `Role of ${user.name}`);
  for (const name of ROLES) role.append(option(name, name));
  role.value = user.role;
  role.addEventListener("change", () => change(user, { role: role.value }, `${user.name} is now ${role.value}.`));
  const roleCell = el("td");
  roleCell.append(role);
  tr.append(roleCell, el("td", "", user.active ? "active" : "disabled"));
  const actions = el("td");
  const toggle = button(user.active ? "Disable" : "Enable", "", "user-toggle");
  toggle.addEventListener("click", () => change(user, { active: !user.active },
    user.active ? `${user.name} is disabled; their sessions have ended.` : `${user.name} is enabled.`));
  actions.append(toggle);
  if (user.active) {
    const reset = button("Reset link", "", "user-reset");
    reset.addEventListener("click", async () => {
      try {
        showLink(user.email, await api(`/api/v1/users/${user.id}/reset-link`, { method: "POST" }));
      } catch (error) {
        showStatus(error.message, "error");
      }
    });
    actions.append(reset);
  }
  tr.append(actions);
  return tr;
}

async function load() {
  try {
    const users = await api("/api/v1/users");
    $("user-rows").replaceChildren(...users.map(row));
  } catch (error) {
    showStatus(error.message, "error");
  }
}

async function invite(event) {
  event.preventDefault();
  const body = { email: $("invite-email").value.trim(), name: $("invite-name").value.trim(), role: $("invite-role").value };
  try {
    const answer = await api("/api/v1/users", { method: "POST", json: body });
    showLink(answer.user.email, answer);
    $("invite-form").reset();
    await load();
  } catch (error) {
    showStatus(error.message, "error");
  }
}

async function start(me) {
  if (!me || me.role !== "admin") {
    $("login-view").hidden = true;
    $("app-view").hidden = true;
    $("forbidden-view").hidden = false;
    return;
  }
  $("admin-name").textContent = me.name;
  $("login-view").hidden = true;
  $("forbidden-view").hidden = true;
  $("app-view").hidden = false;
  await load();
}

function reset() {
  $("user-rows").replaceChildren();
  $("link-box").hidden = true;
  $("link").textContent = "";
}

$("invite-form").addEventListener("submit", invite);
$("forbidden-sign-out").addEventListener("click", signIn.signOut);
signIn.boot({ start, reset });
