"""Lines the end-to-end tests need the real model to misunderstand."""

from __future__ import annotations

import httpx

# Short words with no meaning of their own: with any training, some fall below the confidence the bot
# needs (FallbackClassifier, config.yml); 11 of these did with the model of December 2026.
CANDIDATES = ("the of a an to in for with on at by from as into than that which whom whose upon onto via per "
              "among about above below under over between through during before after against without within "
              "along across behind beyond toward towards").split()


def unplaceable(stack) -> str:
    """A line this model cannot place (its intent is nlu_fallback), found by asking it."""
    parsed = {}
    with httpx.Client(timeout=60) as rasa:
        for text in CANDIDATES:
            response = rasa.post(f"http://{stack.host}:{stack.rasa_port}/model/parse",
                                 params={"token": stack.rasa_token}, json={"text": text})
            response.raise_for_status()
            parsed[text] = response.json()["intent"]["name"]
            if parsed[text] == "nlu_fallback":
                return text
    raise AssertionError(f"the model placed every candidate line somewhere: {parsed}")
