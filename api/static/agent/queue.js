/** The Waiting list: customers queued for a person, how long each has waited (ticking each
 * second, on the server's clock), and claiming one. */
import { $, button, el, parseTime } from "../staff/dom.js";
import { openChat } from "./chat.js";
import { api, showStatus, state } from "./console.js";
import { customerLabel, mmss, reasonLabel } from "./format.js";
import { badges, rebuildKeepingFocus } from "./lists.js";
import { setMine } from "./mine.js";

const waitNodes = new Map(); // handoff id -> {node, requestedMs}
let tickTimer = null;

export function setQueue(handoffs) {
  state.queue = handoffs;
  // wait_seconds is measured on the server's clock; learning the skew keeps mm:ss right when
  // this browser's clock is off.
  const first = handoffs.find((h) => typeof h.wait_seconds === "number");
  if (first) state.clockSkewMs = Date.now() - parseTime(first.requested_at) - first.wait_seconds * 1000;
  renderQueue();
}

function waitedSeconds(requestedMs) {
  return (Date.now() - state.clockSkewMs - requestedMs) / 1000;
}

function tickWaits() {
  for (const { node, requestedMs } of waitNodes.values()) node.textContent = mmss(waitedSeconds(requestedMs));
}

export function startTicking() {
  tickTimer = setInterval(tickWaits, 1000);
}

export function stopTicking() {
  clearInterval(tickTimer);
}

function queueItem(handoff) {
  const item = el("li", "item");
  item.dataset.testid = "queue-item";
  item.dataset.handoffId = String(handoff.id);

  const top = el("div", "item-top");
  top.appendChild(el("strong", "item-name", customerLabel(handoff)));
  const requestedMs = parseTime(handoff.requested_at);
  const wait = el("span", "wait", mmss(waitedSeconds(requestedMs)));
  wait.title = "Waiting time";
  waitNodes.set(handoff.id, { node: wait, requestedMs });
  top.appendChild(wait);
  item.appendChild(top);

  if (handoff.customer_name && handoff.customer_email) {
    item.appendChild(el("div", "item-sub", handoff.customer_email));
  }
  const meta = el("div", "item-meta");
  meta.append(el("span", "reason", reasonLabel(handoff.reason)), badges(handoff));
  item.appendChild(meta);

  const claimButton = button("Claim", "claim", "claim");
  claimButton.setAttribute("aria-label", `Claim chat with ${customerLabel(handoff)}`);
  claimButton.addEventListener("click", () => claimChat(handoff.id, claimButton));
  item.appendChild(claimButton);
  return item;
}

export function renderQueue() {
  waitNodes.clear();
  rebuildKeepingFocus($("queue-list"), state.queue.map(queueItem));
  $("queue-count").textContent = state.queue.length ? `(${state.queue.length})` : "";
  $("queue-empty").hidden = state.queue.length > 0;
}

async function claimChat(handoffId, claimButton) {
  claimButton.disabled = true;
  try {
    const handoff = await api(`/api/v1/handoffs/${handoffId}/claim`, { method: "POST" });
    setQueue(state.queue.filter((h) => h.id !== handoffId));
    if (!state.mine.some((h) => h.id === handoffId)) setMine([...state.mine, handoff]);
    openChat(handoffId);
  } catch (error) {
    if (error.status !== 401) showStatus(error.message, "error");
    claimButton.disabled = false;
  }
}
