/** The status line of a staff page: one message at a time, which clears itself after a while
 * (an error stays longer). */

/** A `show(text, kind)` for the element `id`; kind "info" or "error" (its data-kind). */
export function statusLine(id, { infoMs, errorMs }) {
  let timer = null;
  return function showStatus(text, kind = "info") {
    const box = document.getElementById(id);
    box.textContent = text;
    box.dataset.kind = kind;
    clearTimeout(timer);
    timer = setTimeout(() => { box.textContent = ""; }, kind === "error" ? errorMs : infoMs);
  };
}
