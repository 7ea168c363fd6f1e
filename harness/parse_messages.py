"""Reads each line on stdin (a JSON list of texts) with a trained Rasa model, as the running bot
reads a customer's line, and writes a JSON list with one object per text to the file named: the intent the bot acts
on (nlu_fallback where the FallbackClassifier or our FAQ gate sent the line to the fallback), its
confidence, and the FAQ topic the response selector chose.

Run with .venv-rasa's Python as a script (`harness/rasa.py`'s parse_with_model does): it is the one
file of this package that imports Rasa, and it imports nothing else of ours, so the package's
own imports (the product's settings, SQLAlchemy 2) never reach Rasa's environment.

`rasa test nlu` is not used for this: it undoes every fallback prediction before scoring, so a
line the bot would decline counts as whatever it nearly guessed, and the FAQ gate is invisible."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from pathlib import Path

# Python puts this script's folder (harness/) first on the path, where harness/rasa.py would stand in
# for Rasa itself; the project root goes there instead, for our pipeline components (nlu/).
sys.path[0] = str(Path(__file__).resolve().parents[1])


async def parse_all(model: str, texts: list[str]) -> list[dict]:
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    results = []
    for text in texts:
        parsed = await agent.parse_message(text)
        intent = parsed.get("intent") or {}
        selected = ((parsed.get("response_selector") or {}).get("faq") or {}).get("response") or {}
        ranking = [r for r in parsed.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"]
        results.append({
            "text": text,
            "intent": intent.get("name"),
            "confidence": intent.get("confidence"),
            "topic": selected.get("intent_response_key"),
            "topic_confidence": selected.get("confidence"),
            # What the classifier ranked first and second, under a fallback too (for tuning thresholds).
            "ranking": [[r.get("name"), r.get("confidence")] for r in ranking[:2]],
        })
    return results


def main() -> int:
    logging.disable(logging.WARNING)
    model, out = sys.argv[1], sys.argv[2]
    texts = json.load(sys.stdin)
    results = asyncio.run(parse_all(model, texts))
    with open(out, "w", encoding="utf-8") as file:
        json.dump(results, file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
