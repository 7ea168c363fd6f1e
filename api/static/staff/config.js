/** What the server says about this installation (GET /api/v1/config, public): the company's name,
 * the ticket and feedback categories with their labels, and the longest text each field takes.
 * Asked once per page; nothing here keeps a copy of them. */

let answer = null;
let loaded = null; // the config once it has come (null before, or when it could not be had)

/** The config, or null when it cannot be had (the page then does without). */
export function pageConfig() {
  if (!answer) {
    answer = fetch("/api/v1/config", { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : null))
      .catch(() => null)
      .then((config) => {
        loaded = config && typeof config === "object" ? config : null;
        return loaded;
      });
  }
  return answer;
}

/** {key: label} for a list of {key, label} from the config. */
export function labelMap(labels) {
  return Object.fromEntries((Array.isArray(labels) ? labels : []).map(({ key, label }) => [key, label]));
}

/**
 * Give a text field the config's limit `key` (e.g. "max_note_chars") as its maxLength. For fields
 * built once the config has come; without it the field has no maxlength (the server still refuses
 * longer text).
 */
export function setMaxLength(field, key) {
  const limit = loaded ? loaded[key] : undefined;
  if (field && Number.isInteger(limit) && limit > 0) field.maxLength = limit;
}

/**
 * Once the config has come: the page's neutral title followed by the company's name, and the
 * page's fields given their limits, `limits` being {element id: config key}.
 */
export async function applyPageConfig(limits) {
  const config = await pageConfig();
  if (!config) return;
  const company = typeof config.company_name === "string" ? config.company_name.trim() : "";
  if (company) document.title = `${document.title} — ${company}`;
  for (const [id, key] of Object.entries(limits)) setMaxLength(document.getElementById(id), key);
}
