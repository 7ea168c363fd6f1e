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
HARD = PROJECT_ROOT / "tests" / "nlu_holdout_hard.yml"
CLASSIFICATION_HOLDOUT = PROJECT_ROOT / "tests" / "classification_holdout.yml"


def _examples(path: Path) -> list[tuple[dict, str]]:
    """(block, text) for every example in a Rasa YAML file's `nlu:` blocks."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [
        (block, line.strip()[2:])
        for block in document.get("nlu") or []
        for line in (block.get("examples") or "").splitlines()
        if line.strip().startswith("- ")
    ]


def nlu_examples(path: Path) -> list[tuple[str, str]]:
    """(intent, text) for every example in a Rasa YAML file's `nlu:` intent blocks."""
    return [(block["intent"], text) for block, text in _examples(path) if "intent" in block]


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
    # Of the lines the bot declined (out of scope, or not understood), the share that were out of scope.
    oos_precision: float
    # Right intent and, for an FAQ question, the right topic too: what the customer meets.
    full_accuracy: float
    confusions: list[tuple[str, str, int]]
    # Out-of-scope lines marked near-domain in the set (a block with `metadata: {kind: near_domain}`).
    near_domain_examples: int = 0
    near_domain_recognised: float = 0.0


def near_domain_texts(path: Path) -> set[str]:
    """The examples of blocks marked `metadata: {kind: near_domain}` in a Rasa YAML file."""
    return {text for block, text in _examples(path) if (block.get("metadata") or {}).get("kind") == "near_domain"}


def parse_with_model(model: Path, texts: list[str], out: Path) -> list[dict]:
    """What the bot makes of each text (harness/parse_messages.py, in .venv-rasa): the intent it acts
    on, nlu_fallback included, and the FAQ topic chosen. Also written to `out` for a closer look."""
    out.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [str(RASA.parent / "python"), str(Path(__file__).with_name("parse_messages.py")), str(model), str(out)],
        cwd=PROJECT_ROOT, env=rasa_env(), input=json.dumps(texts), text=True, capture_output=True, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError("parsing the held-out set failed:\n" + result.stderr[-3000:])
    return json.loads(out.read_text(encoding="utf-8"))


def nlu_figures(examples: list[tuple[str, str]], parsed: list[dict], near_domain: set[str] | None = None
                ) -> NluFigures:
    """The figures for held-out `examples` ((intent, text), an FAQ example's intent naming its topic,
    faq/track_order) from what the bot made of each (`parsed`, parse_with_model's rows, same order).
    A line the bot sent to the fallback counts as declined: right for an out-of-scope line, a miss
    for any other. Confusions name FAQ topics (faq/track_order -> faq/order_missing)."""
    total = len(examples)
    intent_ok = faq_total = faq_ok = full_ok = 0
    oos_total = oos_ok = declined = declined_oos = near_total = near_ok = 0
    confusions: dict[tuple[str, str], int] = {}
    for (expected, text), row in zip(examples, parsed, strict=True):
        predicted = row.get("intent") or "?"
        is_faq = expected.startswith("faq/")
        given = (row.get("topic") or "faq") if predicted == "faq" else predicted
        if expected == "out_of_scope":
            right_intent = right = predicted in OUT_OF_SCOPE_OK
            oos_total += 1
            oos_ok += right
            if text in (near_domain or set()):
                near_total += 1
                near_ok += right
        else:
            right_intent = predicted == ("faq" if is_faq else expected)
            right = given == expected
        if is_faq:
            faq_total += 1
            faq_ok += right
        intent_ok += right_intent
        full_ok += right
        if predicted in OUT_OF_SCOPE_OK:
            declined += 1
            declined_oos += expected == "out_of_scope"
        if not right:
            confusions[(expected, given)] = confusions.get((expected, given), 0) + 1
    return NluFigures(
        examples=total,
        intent_accuracy=intent_ok / total if total else 0.0,
        faq_examples=faq_total,
        faq_key_accuracy=faq_ok / faq_total if faq_total else 0.0,
        oos_examples=oos_total,
        oos_recognised=oos_ok / oos_total if oos_total else 0.0,
        oos_precision=declined_oos / declined if declined else 0.0,
        near_domain_examples=near_total,
        near_domain_recognised=near_ok / near_total if near_total else 0.0,
        full_accuracy=full_ok / total if total else 0.0,
        confusions=sorted(((a, b, n) for (a, b), n in confusions.items()), key=lambda c: (-c[2], c[0], c[1]))[:12],
    )


def _targets(name: str, figures: NluFigures) -> list[tuple[str, float, float | None, str]]:
    """(figure, measured, target, over what) for one held-out set."""
    if name == "first_messages":
        return [("intent accuracy, FAQ topic included", figures.full_accuracy, 0.95,
                 f"{figures.examples} first messages")]
    if name == "hard":
        rows = [
            ("intent accuracy", figures.intent_accuracy, 0.95, f"{figures.examples} examples"),
            ("FAQ-topic accuracy", figures.faq_key_accuracy, 0.93, f"{figures.faq_examples} FAQ examples"),
            ("out-of-scope recall", figures.oos_recognised, 0.90, f"{figures.oos_examples} out-of-scope examples"),
            ("out-of-scope precision", figures.oos_precision, 0.90, "the lines declined"),
        ]
        if figures.near_domain_examples:
            rows.append(("near-domain out-of-scope recall", figures.near_domain_recognised, None,
                         f"{figures.near_domain_examples} of the out-of-scope examples (part of the recall)"))
        return rows
    return [
        ("intent accuracy", figures.intent_accuracy, 0.92, f"{figures.examples} examples"),
        ("FAQ-key accuracy", figures.faq_key_accuracy, 0.90, f"{figures.faq_examples} FAQ examples"),
        ("out-of-scope recognised", figures.oos_recognised, 0.80, f"{figures.oos_examples} examples"),
    ]


# Each held-out set: its name (the reports' folder), file, and what it measures.
EVAL_SETS = [
    ("holdout", HOLDOUT, "the held-out set in another voice"),
    ("first_messages", FIRST_MESSAGES, "realistic first messages with the details of the case"),
    ("hard", HARD, "the harder held-out set: varied voices, near-domain out-of-scope questions"),
]


def _target_cell(target: float | None) -> str:
    return "\u2014" if target is None else f"\u2265 {target:.0%}"


def evaluate() -> int:
    tables, met = [], True
    for name, path, about in EVAL_SETS:
        out = REPORTS / "nlu" / name / "predictions.json"
        examples = nlu_examples(path)
        parsed = parse_with_model(model_path(), [text for _, text in examples], out)
        figures = nlu_figures(examples, parsed, near_domain_texts(path))
        targets = _targets(name, figures)
        met = met and all(target is None or value >= target for _, value, target, _ in targets)
        lines = [f"**{about}** (`{path.relative_to(PROJECT_ROOT)}`)", "",
                 "| figure | measured | target | over |", "| --- | --- | --- | --- |"]
        lines += [f"| {figure} | {value:.1%} | {_target_cell(target)} | {over} |"
                  for figure, value, target, over in targets]
        if figures.confusions:
            lines += ["", "Most frequent confusions (expected \u2192 predicted: count): " + "; ".join(
                f"{expected} \u2192 {predicted}: {count}" for expected, predicted, count in figures.confusions) + "."]
        table = "\n".join(lines)
        print(table + f"\n\nwhat the bot made of each line: {out}\n")
        tables.append(table)
    table, classification_met = classification_table()
    print(table + "\n")
    tables.append(table)
    write_figures("nlu", "\n\n".join(tables) + "\n\nMeasured by `make eval`.")
    return 0 if met and classification_met else 1


def classification_table(holdout: Path = CLASSIFICATION_HOLDOUT) -> tuple[str, bool]:
    """Routine / urgent / complex and category of the held-out requests, as a new ticket gets them: the
    learned classifier where it is sure, the keyword rules where it is not (bot.tickets.classification)."""
    from collections import Counter

    from bot.settings import get_settings
    from bot.tickets import textcat
    from bot.tickets.classification import classify, guess_category

    categories = get_settings().ticket_categories
    keys = [category.key for category in categories]
    examples = textcat.load_examples(holdout)
    nlp = textcat.classifier()
    readings = [textcat.read(nlp, e.text, keys) for e in examples]
    verdicts = [classify(e.text, category=e.category, categories=categories, learned=r).classification
                for e, r in zip(examples, readings, strict=True)]
    expected = [e.classification for e in examples]
    product_f1 = textcat.macro_f1(expected, verdicts)
    learned_f1 = textcat.macro_f1(expected, [r.classification for r in readings])
    guessed = [guess_category(e.text, categories, r) or "other" for e, r in zip(examples, readings, strict=True)]
    category_f1 = textcat.macro_f1([e.category for e in examples], guessed)
    confusions = Counter((e, v) for e, v in zip(expected, verdicts, strict=True) if e != v)
    lines = [f"**ticket classification** (`{holdout.relative_to(PROJECT_ROOT)}`, learned from "
             "`data/classification.yml`)", "", "| figure | measured | target | over |", "| --- | --- | --- | --- |",
             f"| routine / urgent / complex, macro-F1 | {product_f1:.3f} | \u2265 0.90 | {len(examples)} requests |",
             f"| the same, the learned classifier alone | {learned_f1:.3f} | \u2014 | {len(examples)} requests |",
             f"| category guessed at the ticket's start, macro-F1 | {category_f1:.3f} | \u2014 "
             f"| {len(keys)} categories |"]
    if confusions:
        lines += ["", "Confusions (expected \u2192 given: count): " + "; ".join(
            f"{a} \u2192 {b}: {n}" for (a, b), n in confusions.most_common()) + "."]
    return "\n".join(lines), product_f1 >= 0.90


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
                        client.post(f"{rasa}/webhooks/rest/webhook", json={"sender": sender, "message": text},
                                    headers={"Authorization": f"Bearer {stack.rasa_token}"}).raise_for_status()
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
