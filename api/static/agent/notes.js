/** Private notes on the open chat, which only colleagues see. */
import { $, el } from "../staff/dom.js";
import { api, attempt, state } from "./console.js";
import { clockTime } from "./format.js";

export function renderNotes(notes) {
  $("notes-list").replaceChildren(...notes.map(noteItem));
}

function noteItem(note) {
  const item = el("li", "note");
  const meta = el("div", "line-meta");
  meta.appendChild(el("span", "who", note.agent_name || "Agent"));
  const time = el("time", "when", clockTime(note.created_at));
  time.dateTime = note.created_at;
  meta.appendChild(time);
  item.append(meta, el("div", "line-text", note.text));
  return item;
}

export async function addNote() {
  const open = state.open;
  const input = $("note-input");
  if (!open || !input.value.trim()) return;
  const note = await attempt(() => api(`/api/v1/handoffs/${open.id}/notes`, {
    method: "POST", json: { text: input.value },
  }));
  if (note && state.open === open) {
    $("notes-list").appendChild(noteItem(note));
    input.value = "";
  }
}
