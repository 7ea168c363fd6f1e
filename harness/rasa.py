"""Runs the Rasa CLI (in .venv-rasa) for data validation, test stories and NLU evaluation."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.settings import PROJECT_ROOT
from harness.modelhash import model_path

RASA = PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"
REPORTS = PROJECT_ROOT / "reports"
HOLDOUT = PROJECT_ROOT / "tests" / "nlu_holdout.yml"
FIRST_MESSAGES = PROJECT_ROOT / "tests" / "nlu_first_messages.yml"


def nlu_examples(path: Path) -> list[tuple[str, str]]:
    """(intent, text) for every example in a Rasa YAML file's `nlu:` intent blocks."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    found = []
    for block in document.get("nlu") or []:
        if "intent" not in block:
            continue
        for line in block["examples"].splitlines():
            line = line.strip()
            if line.startswith("- "):
                found.append((block["intent"], line[2:]))
    return found


def rasa_env() -> dict[str, str]:
    env = dict(os.environ)
    env["RASA_TELEMETRY_ENABLED"] = "false"
    # Library import noise (pkg_resources, jax) is not about our data.
    env["PYTHONWARNINGS"] = "ignore::DeprecationWarning"
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    env["SQLALCHEMY_SILENCE_UBER_WARNING"] = "1"
    return env


def run_rasa(*args: str, capture: bool = False, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(RASA), *args],
        cwd=PROJECT_ROOT,
        env={**rasa_env(), **(env or {})},
        text=True,
        capture_output=capture,
        check=False,
    )


# --- rasa data validate -------------------------------------------------------

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_LINE_ENDS_WARNING = re.compile(r"^(\d{4}-\d\d-\d\d |\s*More info at |\S+\.py:\d+: |Processed |\s*$)")


def warnings_in(output: str) -> list[str]:
    """The text of every UserWarning in Rasa's output, continuation lines joined."""
    found: list[str] = []
    current: str | None = None
    for raw in output.splitlines():
        line = _ANSI.sub("", raw)
        if "UserWarning: " in line:
            if current is not None:
                found.append(current)
            current = line.split("UserWarning: ", 1)[1].strip()
        elif current is not None:
            if _LINE_ENDS_WARNING.match(line):
                found.append(current)
                current = None
            else:
                current = f"{current} {line.strip()}"
    if current is not None:
        found.append(current)
    return found


@dataclass(frozen=True)
class ValidationFinding:
    message: str
    false_positive_reason: str | None


def _form_slots() -> set[str]:
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    return {slot for form in (domain.get("forms") or {}).values() for slot in form.get("required_slots", [])}


def classify_warning(message: str, form_slots: set[str]) -> ValidationFinding:
    """Rasa 3.6's validator reports four things that are not faults; name them."""
    message = _ANSI.sub("", message).strip()
    if message == "The following duplicated intents have been found across multiple domain files: faq":
        return ValidationFinding(
            message,
            "Rasa 3.6 merges the retrieval intent from the NLU data into the domain, which "
            "must list it too, and then reports the pair as a duplicate",
        )
    external = re.fullmatch(r"The intent '(EXTERNAL_\w+)' is listed in the domain file, but is not found in the NLU "
                            r"training data\.", message)
    if external:
        return ValidationFinding(message, "the API sends it with trigger_intent; nobody types it, so it has no "
                                          "training examples")
    unused = re.fullmatch(r"The utterance '(utter_[\w/]+)' is not used in any story or rule\.", message)
    if unused:
        name = unused.group(1)
        if name.startswith("utter_ask_") and name.removeprefix("utter_ask_") in form_slots:
            return ValidationFinding(message, "a form asks with it; the validator does not look inside forms")
        if name in ("utter_default", "utter_first_miss", "utter_ask_rephrase"):
            return ValidationFinding(message, "the fallback actions utter it (Rasa's, or ours in their place); "
                                              "the validator does not look inside actions")
    return ValidationFinding(message, None)


def validate() -> int:
    result = run_rasa("data", "validate", capture=True)
    output = result.stdout + result.stderr
    form_slots = _form_slots()
    findings = [classify_warning(message, form_slots) for message in warnings_in(output)]
    errors = [line for line in output.splitlines() if " ERROR " in line]
    real = [finding for finding in findings if finding.false_positive_reason is None]
    for finding in findings:
        if finding.false_positive_reason:
            print(f"known Rasa 3.6 false positive ({finding.false_positive_reason}): {finding.message}")
    for finding in real:
        print(f"WARNING: {finding.message}")
    for line in errors:
        print(line)
    if result.returncode != 0 or real or errors:
        print(output[-4000:] if result.returncode != 0 else "", file=sys.stderr)
        print(f"rasa data validate: {len(real)} warning(s), {len(errors)} error(s), exit code {result.returncode}")
        return 1
    print(f"rasa data validate: clean ({len(findings)} known false positive(s) named above)")
    return 0


# --- rasa test (stories) --------------------------------------------------------


def test_stories() -> int:
    out = REPORTS / "stories"
    result = run_rasa(
        "test", "core", "--model", str(model_path()), "--stories", "tests/test_stories.yml",
        "--fail-on-prediction-errors", "--out", str(out),
    )
    failed = out / "failed_test_stories.yml"
    if failed.is_file() and "None of the test stories failed" not in failed.read_text(encoding="utf-8"):
        print(failed.read_text(encoding="utf-8")[:6000])
    return result.returncode


# --- NLU evaluation on the held-out sets -----------------------------------------

OUT_OF_SCOPE_OK = {"out_of_scope", "nlu_fallback"}


@dataclass
class NluFigures:
    examples: int
    intent_accuracy: float
    faq_examples: int
    faq_key_accuracy: float
    oos_examples: int
    oos_recognised: float
    # Right intent and, for an FAQ question, the right topic too: what the customer meets.
    full_accuracy: float
    confusions: list[tuple[str, str, int]]


def _load(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []


def nlu_figures(out: Path) -> NluFigures:
    """The figures from `rasa test nlu --successes` reports in `out`. Confusions name FAQ topics
    (faq/track_order -> faq/order_missing) where the response selector reported them."""
    successes = _load(out / "intent_successes.json")
    errors = _load(out / "intent_errors.json")
    predictions = successes + errors
    total = len(predictions)
    oos = [p for p in predictions if p["intent"] == "out_of_scope"]
    oos_ok = [p for p in oos if (p.get("intent_prediction") or {}).get("name") in OUT_OF_SCOPE_OK]
    rs_successes = _load(out / "response_selection_successes.json")
    rs_errors = _load(out / "response_selection_errors.json")
    topic_of = {r["text"]: r["intent_response_key_target"] for r in rs_successes + rs_errors}
    guessed_topic = {r["text"]: (r.get("intent_response_key_prediction") or {}).get("name") for r in rs_errors}
    wrong = {e["text"] for e in errors} | set(guessed_topic)
    confusions: dict[tuple[str, str], int] = {}
    for prediction in predictions:
        text = prediction["text"]
        if text not in wrong:
            continue
        expected = topic_of.get(text, prediction["intent"])
        predicted = (prediction.get("intent_prediction") or {}).get("name") or "?"
        if predicted == "faq" and text in topic_of:
            predicted = guessed_topic.get(text) or topic_of[text]
        confusions[(expected, predicted)] = confusions.get((expected, predicted), 0) + 1
    faq_total = len(rs_successes) + len(rs_errors)
    return NluFigures(
        examples=total,
        intent_accuracy=len(successes) / total if total else 0.0,
        faq_examples=faq_total,
        faq_key_accuracy=len(rs_successes) / faq_total if faq_total else 0.0,
        oos_examples=len(oos),
        oos_recognised=len(oos_ok) / len(oos) if oos else 0.0,
        full_accuracy=(total - len(wrong & {p["text"] for p in predictions})) / total if total else 0.0,
        confusions=sorted(((a, b, n) for (a, b), n in confusions.items()), key=lambda c: (-c[2], c[0], c[1]))[:12],
    )


def _targets(name: str, figures: NluFigures) -> list[tuple[str, float, float, str]]:
    """(figure, measured, target, over what) for one held-out set."""
    if name == "first_messages":
        return [("intent accuracy, FAQ topic included", figures.full_accuracy, 0.95,
                 f"{figures.examples} first messages")]
    return [
        ("intent accuracy", figures.intent_accuracy, 0.92, f"{figures.examples} examples"),
        ("FAQ-key accuracy", figures.faq_key_accuracy, 0.90, f"{figures.faq_examples} FAQ examples"),
        ("out-of-scope recognised", figures.oos_recognised, 0.80, f"{figures.oos_examples} examples"),
    ]


# Each held-out set: its name (the reports' folder), file, and what it measures.
EVAL_SETS = [
    ("holdout", HOLDOUT, "the held-out set in another voice"),
    ("first_messages", FIRST_MESSAGES, "realistic first messages with the details of the case"),
]


def evaluate() -> int:
    tables, met = [], True
    for name, path, about in EVAL_SETS:
        out = REPORTS / "nlu" / name
        result = run_rasa("test", "nlu", "--model", str(model_path()), "--nlu", str(path), "--out", str(out),
                          "--successes", "--no-plot")
        if result.returncode != 0:
            return result.returncode
        figures = nlu_figures(out)
        targets = _targets(name, figures)
        met = met and all(value >= target for _, value, target, _ in targets)
        lines = [f"**{about}** (`{path.relative_to(PROJECT_ROOT)}`)", "",
                 "| figure | measured | target | over |", "| --- | --- | --- | --- |"]
        lines += [f"| {figure} | {value:.1%} | \u2265 {target:.0%} | {over} |"
                  for figure, value, target, over in targets]
        if figures.confusions:
            lines += ["", "Most frequent confusions (expected \u2192 predicted: count): " + "; ".join(
                f"{expected} \u2192 {predicted}: {count}" for expected, predicted, count in figures.confusions) + "."]
        table = "\n".join(lines)
        print(table + f"\n\nreports written to {out}\n")
        tables.append(table)
    write_figures("nlu", "\n\n".join(tables) + "\n\nMeasured by `make eval`.")
    return 0 if met else 1


FIGURES = PROJECT_ROOT / "docs" / "performance.md"


def write_figures(name: str, body: str, path: Path = FIGURES) -> None:
    """Replace the text between <!-- figures:NAME --> and <!-- /figures:NAME --> in `path`
    (docs/performance.md); the rest of the file is left as it was. No markers: nothing written."""
    text = path.read_text(encoding="utf-8")
    start, end = f"<!-- figures:{name} -->", f"<!-- /figures:{name} -->"
    if start not in text or end not in text:
        return
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{start}\n{body.strip()}\n{end}{tail}", encoding="utf-8")


# --- recording test stories from real conversations ---------------------------------


def record_stories(conversations_file: Path, out: Path) -> int:
    """Play scripted conversations against the real stack and write what happened as
    Rasa test stories. A person reads the result before committing it: the stories
    must show the behaviour we want, not merely the behaviour we have."""
    import tempfile
    import uuid

    import httpx
    from sqlalchemy.orm import Session

    from bot import migrate
    from bot.db import make_engine
    from bot.tickets.schemas import TicketCreate
    from bot.tickets.service import create_ticket
    from harness.stack import Stack, free_port

    script = yaml.safe_load(conversations_file.read_text(encoding="utf-8"))["conversations"]
    with tempfile.TemporaryDirectory() as workdir:
        url = f"sqlite:///{workdir}/stories.db"
        migrate.upgrade(url=url)
        logs: list[str] = []
        stack = Stack(model=model_path(), rasa_port=free_port(), action_port=free_port(), api_port=free_port(),
                      env={"DATABASE_URL": url}, emit=logs.append)
        stack.start()
        try:
            stack.wait_ready(timeout=400)
            engine = make_engine(url)
            rasa = f"http://{stack.host}:{stack.rasa_port}"
            stories: list[str] = []
            with httpx.Client(timeout=60) as client:
                for number, conversation in enumerate(script, start=1):
                    email = f"story{number}@example.com"
                    with Session(engine) as session, session.begin():
                        ticket = create_ticket(session=session, data=TicketCreate(
                            description="Parcel never arrived", category="orders_shipping",
                            customer_name="Story Customer", customer_email=email)).reference
                    sender = f"story-{number}-{uuid.uuid4().hex[:6]}"
                    for text in conversation["say"]:
                        for placeholder, value in (("{ticket}", ticket), ("{email}", email),
                                                   ("{wrong_email}", "not.me@example.com")):
                            text = text.replace(placeholder, value)
                        client.post(f"{rasa}/webhooks/rest/webhook",
                                    json={"sender": sender, "message": text}).raise_for_status()
                    story = client.get(f"{rasa}/conversations/{sender}/story",
                                       params={"token": stack.rasa_token}).text
                    body = story.split("stories:\n", 1)[1]
                    body = re.sub(r"^- story: .*$", f"- story: {conversation['name']}", body, count=1, flags=re.M)
                    stories.append(body.rstrip())
            engine.dispose()
        finally:
            stack.stop()
    header = (
        "# Recorded by `python -m harness rasa record-stories` from tests/stories/conversations.yml,\n"
        "# then read through by a person. Replayed by `make test` (rasa test, fail on any error).\n"
    )
    out.write_text(header + 'version: "3.1"\nstories:\n' + "\n".join(stories) + "\n", encoding="utf-8")
    print(f"wrote {len(stories)} stories to {out}")
    return 0
