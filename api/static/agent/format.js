/** How the agent console words times, waits, customers and why they came. */
import { parseTime } from "../staff/dom.js";

const REASONS = {
  requested: "Asked for a person", fallback: "The bot did not understand", agent_joined: "Joined from the bot's chats",
  recovery: "Unhappy with our service",
};

export function clockTime(value) {
  return new Date(parseTime(value)).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function mmss(seconds) {
  const whole = Math.max(0, Math.floor(seconds));
  return `${String(Math.floor(whole / 60)).padStart(2, "0")}:${String(whole % 60).padStart(2, "0")}`;
}

export function customerLabel(handoff) {
  return handoff.customer_name || handoff.customer_email || "Anonymous";
}

export function reasonLabel(reason) {
  return REASONS[reason] || reason || "";
}
