/** The top themes in low-score survey comments: each a word or phrase, opening to the comments
 * that use it. */
import { $, button, el } from "../staff/dom.js";
import { api, query, reportParams } from "./dashboard.js";
import { count, dateTime, num } from "./format.js";
import { section } from "./loading.js";

export function loadThemes(gen, filters) {
  return section(gen, () => api(`/api/v1/reports/themes${query(reportParams(filters))}`), renderThemes, () => {
    $("themes-list").replaceChildren();
    $("themes-note").textContent = "The themes could not be loaded.";
    $("themes-empty").hidden = true;
  });
}

function renderThemes(data) {
  const list = $("themes-list");
  list.replaceChildren();
  const comments = Array.isArray(data.comments) ? data.comments : [];
  const themes = Array.isArray(data.themes) ? data.themes : [];
  const byId = new Map(comments.map((comment) => [comment.response_id, comment]));
  $("themes-note").textContent = `Words and phrases in the comments of surveys scoring ${count(data.max_score)} or `
    + `less on the first question (${num(comments.length)} ${comments.length === 1 ? "comment" : "comments"}). `
    + "Choose one to read its comments.";
  themes.forEach((theme, i) => {
    const li = el("li", "theme");
    li.dataset.term = theme.term;
    const panelId = `theme-${i}-comments`;
    const toggle = button("", "theme-button", "theme");
    toggle.setAttribute("aria-expanded", "false");
    toggle.setAttribute("aria-controls", panelId);
    toggle.append(el("span", "theme-term", theme.term),
      el("span", "theme-count", `${num(theme.comments)} ${theme.comments === 1 ? "comment" : "comments"}`));
    const panel = el("div", "theme-comments");
    panel.id = panelId;
    panel.hidden = true;
    panel.dataset.testid = "theme-comments";
    toggle.addEventListener("click", () => {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      if (open && !panel.childElementCount) fillThemePanel(panel, theme, byId);
      toggle.setAttribute("aria-expanded", String(open));
      panel.hidden = !open;
    });
    li.append(toggle, panel);
    list.append(li);
  });
  $("themes-empty").hidden = themes.length > 0;
}

function fillThemePanel(panel, theme, byId) {
  const ids = Array.isArray(theme.response_ids) ? theme.response_ids : [];
  const found = ids.map((id) => byId.get(id)).filter(Boolean);
  const list = el("ul", "comments");
  list.setAttribute("aria-label", `Comments using “${theme.term}”`);
  for (const comment of found) {
    const li = el("li", "comment");
    li.dataset.testid = "theme-comment";
    li.dataset.responseId = String(comment.response_id);
    const meta = [`Score ${count(comment.score)}`, dateTime(comment.answered_at)];
    if (comment.conversation_id) meta.push(`chat ${comment.conversation_id}`);
    li.append(el("p", "item-meta", meta.join(" · ")), el("p", "comment-text", comment.text));
    list.append(li);
  }
  if (found.length) panel.append(list);
  const missing = ids.length - found.length;
  if (missing > 0) {
    panel.append(el("p", "empty", `${num(missing)} more ${missing === 1 ? "comment is" : "comments are"} not shown.`));
  }
  if (!ids.length) panel.append(el("p", "empty", "No comment to show."));
}
