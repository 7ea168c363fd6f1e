/** What the server says about this installation (GET /api/v1/config, public): the ticket and
 * feedback categories with their labels, the longest chat line. Asked once per page. */

let answer = null;

/** The config, or null when it cannot be had (the page then does without). */
export function pageConfig() {
  if (!answer) {
    answer = fetch("/api/v1/config", { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : null))
      .catch(() => null);
  }
  return answer;
}

/** {key: label} for a list of {key, label} from the config. */
export function labelMap(labels) {
  return Object.fromEntries((Array.isArray(labels) ? labels : []).map(({ key, label }) => [key, label]));
}
