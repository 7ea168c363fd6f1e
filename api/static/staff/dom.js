/** Elements and times for the staff pages: building nodes with text only (never HTML), and
 * reading the server's timestamps. */

/** The element with this id. */
export const $ = (id) => document.getElementById(id);

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

export function option(value, label) {
  const node = el("option", "", label);
  node.value = value;
  return node;
}

/** A plain button (not a form's submit), with a data-testid when given. */
export function button(text, className, testid) {
  const node = el("button", className, text);
  node.type = "button";
  if (testid) node.dataset.testid = testid;
  return node;
}

/** The server's times carry a zone; a bare one is read as UTC rather than local time. */
export function parseTime(value) {
  const text = String(value || "");
  return Date.parse(/(Z|[+-]\d\d:?\d\d)$/i.test(text) ? text : text + "Z");
}
