/** A customer's page of their request, opened by the link in an e-mail (the token is after the #: it
 * reaches no server log). Everything is shown as text. */

import { call, token } from "./link.js";

const $ = (id) => document.getElementById(id);
const STATUS = {
  new: "received, not yet answered",
  open: "being worked on",
  pending: "waiting for an answer from you",
  resolved: "solved",
  closed: "closed",
};

function say(text) {
  $("ticket-note").textContent = text;
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "";
}

function promise(ticket) {
  if (ticket.status === "resolved" || ticket.status === "closed") return `solved ${when(ticket.resolved_at)}`.trim();
  const reply = ticket.first_responded_at
    ? `answered ${when(ticket.first_responded_at)}`
    : `a person replies by ${when(ticket.first_response_due)}`;
  return `${reply}; solved by ${when(ticket.resolution_due)}`;
}

function show(ticket) {
  $("ticket").hidden = false;
  $("ticket-subject").textContent = ticket.subject;
  $("ticket-reference").textContent = ticket.reference;
  $("ticket-status").textContent = STATUS[ticket.status] || ticket.status;
  $("ticket-category").textContent = ticket.category;
  $("ticket-promise").textContent = promise(ticket);
  const items = ticket.history.map((item) => {
    const li = document.createElement("li");
    li.className = item.kind;
    const meta = document.createElement("div");
    meta.className = "meta";
    const what = { created: "asked", reply: "replied", note: "added", status: "changed the status" }[item.kind];
    meta.textContent = `${when(item.at)} · ${item.who === "you" ? "You" : item.who} ${what}`;
    const text = document.createElement("div");
    text.className = "text";
    text.textContent = item.kind === "status" ? STATUS[item.text] || item.text : item.text || "";
    li.append(meta, text);
    if (item.files && item.files.length) {
      const files = document.createElement("div");
      files.className = "files";
      files.textContent = `Attached: ${item.files.join(", ")}`;
      li.append(files);
    }
    return li;
  });
  $("ticket-history").replaceChildren(...items);
  $("close-ticket").hidden = ticket.status === "closed";
  $("surveys-by-email").checked = Boolean(ticket.surveys_by_email);
}

async function load() {
  if (!token) {
    say("This page needs the whole link from your e-mail, including the part after #.");
    return;
  }
  try {
    show(await call(""));
  } catch (error) {
    say(error.message);
  }
}

$("add-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = $("add-text").value.trim();
  if (!text) return;
  $("add-submit").disabled = true;
  try {
    show(await call("/comments", { method: "POST", json: { text } }));
    $("add-text").value = "";
    say("Thank you: we have added that to your request.");
  } catch (error) {
    say(error.message);
  } finally {
    $("add-submit").disabled = false;
  }
});

$("close-ticket").addEventListener("click", async () => {
  try {
    show(await call("/close", { method: "POST" }));
    say("Your request is closed. Thank you.");
  } catch (error) {
    say(error.message);
  }
});

$("surveys-by-email").addEventListener("change", async (event) => {
  const surveys = event.target.checked;
  try {
    show(await call("/mail-preferences", { method: "POST", json: { surveys } }));
    say(surveys ? "We will send you a short survey when a request is solved."
      : "No more surveys by e-mail. E-mails about your requests still come.");
  } catch (error) {
    event.target.checked = !surveys;
    say(error.message);
  }
});

load();
