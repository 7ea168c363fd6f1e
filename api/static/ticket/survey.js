/** The satisfaction survey about a solved request, opened by the link in the "solved" e-mail (the token
 * is after the #). Each answer is sent as it is given; everything is shown as text. */

import { call, token } from "./link.js";

const $ = (id) => document.getElementById(id);
const CHOICES = {
  rating_1_5: ["1", "2", "3", "4", "5"],
  nps_0_10: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"],
  yes_no: ["yes", "no"],
};

function say(text) {
  $("survey-note").textContent = text;
}

async function send(key, answer) {
  try {
    show(await call("/survey/answers", { method: "POST", json: { key, answer } }));
    say("");
  } catch (error) {
    say(error.message);
  }
}

function question(item) {
  const li = document.createElement("li");
  li.dataset.testid = `question-${item.key}`;
  const label = document.createElement("p");
  label.textContent = item.text + (item.required ? "" : " (optional)");
  li.append(label);
  if (CHOICES[item.type]) {
    const row = document.createElement("div");
    row.className = "choices";
    for (const choice of CHOICES[item.type]) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = choice;
      const chosen = item.type === "yes_no" ? String(item.answer === 1 ? "yes" : item.answer === 0 ? "no" : "")
        : String(item.answer ?? "");
      button.setAttribute("aria-pressed", String(chosen === choice));
      button.disabled = done;
      button.addEventListener("click", () => send(item.key, choice));
      row.append(button);
    }
    li.append(row);
  } else {
    const form = document.createElement("form");
    const text = document.createElement("textarea");
    text.rows = 3;
    text.value = item.answer ?? "";
    text.disabled = done;
    text.setAttribute("aria-label", item.text);
    const submit = document.createElement("button");
    submit.type = "submit";
    submit.textContent = "Send";
    submit.disabled = done;
    form.append(text, submit);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      send(item.key, text.value.trim() || "skip");
    });
    li.append(form);
  }
  return li;
}

let done = false;

function show(survey) {
  done = survey.completed;
  $("survey").hidden = false;
  $("survey-questions").replaceChildren(...survey.questions.map(question));
  $("survey-done").hidden = !survey.completed;
  if (survey.recovery_reference) {
    say(`We're sorry we let you down. We have opened ${survey.recovery_reference} and someone will contact you.`);
  }
}

if (!token) {
  say("This page needs the whole link from your e-mail, including the part after #.");
} else {
  call("/survey").then(show).catch((error) => say(error.message));
}
