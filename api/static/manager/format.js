/** How the dashboard writes numbers, rates, durations, days and times (en-GB). */
import { parseTime } from "../staff/dom.js";

const formatters = new Map();

export function num(value, maxDigits = 0, minDigits = 0) {
  const key = `${minDigits}:${maxDigits}`;
  let format = formatters.get(key);
  if (!format) {
    format = new Intl.NumberFormat("en-GB", { minimumFractionDigits: minDigits, maximumFractionDigits: maxDigits });
    formatters.set(key, format);
  }
  return format.format(value);
}

export const isNum = (value) => typeof value === "number" && Number.isFinite(value);

export function pct(fraction, digits = 1) {
  return isNum(fraction) ? `${num(fraction * 100, digits, digits)}%` : "—";
}

export function count(value) {
  return isNum(value) ? num(value) : "—";
}

/** Seconds as seconds, minutes, hours or days, whichever reads best. */
export function duration(seconds) {
  if (!isNum(seconds)) return "—";
  const size = Math.abs(seconds);
  if (size < 60) return `${num(seconds)} s`;
  if (size < 3600) return `${num(seconds / 60, size < 600 ? 1 : 0)} min`;
  if (size < 172800) return `${num(seconds / 3600, 1)} h`;
  return `${num(seconds / 86400, 1)} days`;
}

export function capitalise(text) {
  const value = String(text || "");
  return value.charAt(0).toUpperCase() + value.slice(1);
}

const pad = (n) => String(n).padStart(2, "0");

export function isoDate(date) {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** "YYYY-MM-DD" as a local date (not UTC midnight, which may be the day before here). */
function parseDay(text) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(text || ""));
  return match ? new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : null;
}

export function validDay(text) {
  const date = parseDay(text);
  return date !== null && isoDate(date) === text;
}

export function dayLabel(text, withYear = true) {
  const date = parseDay(text);
  if (!date) return String(text ?? "");
  return date.toLocaleDateString("en-GB", withYear ? { day: "numeric", month: "short", year: "numeric" }
    : { day: "numeric", month: "short" });
}

export function dateTime(value) {
  if (!value) return "—";
  const time = parseTime(value);
  if (Number.isNaN(time)) return String(value);
  return new Date(time).toLocaleString("en-GB", {
    day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
  });
}

/** A local time as ISO 8601 with this browser's offset, e.g. 2025-03-01T23:59:00+01:00. */
function withOffset(date) {
  const offset = -date.getTimezoneOffset();
  const size = Math.abs(offset);
  return `${isoDate(date)}T${pad(date.getHours())}:${pad(date.getMinutes())}:00`
    + `${offset >= 0 ? "+" : "-"}${pad(Math.floor(size / 60))}:${pad(size % 60)}`;
}

/** A due date means "by the end of that day", here. */
export function endOfDay(dayText) {
  const day = parseDay(dayText);
  return day ? withOffset(new Date(day.getFullYear(), day.getMonth(), day.getDate(), 23, 59)) : null;
}

/** The local day ("YYYY-MM-DD") of a server time; "" for none. */
export function localDay(value) {
  if (!value) return "";
  const time = parseTime(value);
  return Number.isNaN(time) ? "" : isoDate(new Date(time));
}
