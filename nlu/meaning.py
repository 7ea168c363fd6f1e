"""The intent and FAQ-topic classifier (config.yml names it): one logistic regression over each
line's meaning (the sentence embedding nlu.components.SentenceEmbeddings adds) and its words and
word pairs (TF-IDF of the DetailsTokenizer's tokens, so an order number or an e-mail is one
placeholder word), fitted by nlu.softmax, with the votes of the training lines nearest in meaning
mixed in (nlu.neighbours). It tells every intent and every FAQ topic apart in one
step, and answers as Rasa's DIETClassifier and ResponseSelector together would: the intent with its
ranking, and for the retrieval intent the chosen topic with its responses, so rules, the FAQ answer
and the FAQ gate work unchanged. Only Rasa loads this module."""

from __future__ import annotations

import json
import logging
import zlib
from typing import Any

import numpy as np
import scipy.sparse as sp
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import (
    RESPONSE_SELECTOR_PREDICTION_KEY,
    RESPONSE_SELECTOR_PROPERTY_NAME,
    RESPONSE_SELECTOR_RANKING_KEY,
    RESPONSE_SELECTOR_RESPONSES_KEY,
    RESPONSE_SELECTOR_RETRIEVAL_INTENTS,
    RESPONSE_SELECTOR_UTTER_ACTION_KEY,
    TOKENS_NAMES,
)
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    INTENT_RESPONSE_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.components import FIRST_REQUEST, SECOND_REQUEST
from nlu.neighbours import Neighbours
from nlu.patterns import explicit_request

logger = logging.getLogger(__name__)

RANKING_LENGTH = 10


def words(message: Message) -> str:
    """The line as the tokenizer read it (details as placeholder words)."""
    tokens = message.get(TOKENS_NAMES[TEXT]) or []
    return " ".join(token.text for token in tokens) if tokens else (message.get(TEXT) or "")


def meaning(message: Message) -> np.ndarray | None:
    """The line's sentence embedding (dense sentence features), or None without one."""
    _, sentence = message.get_dense_features(TEXT)
    return None if sentence is None else np.asarray(sentence.features, dtype=np.float32).reshape(-1)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class MeaningClassifier(GraphComponent, IntentClassifier):
    """Intents and FAQ topics from the sentence embedding and TF-IDF, by logistic regression."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # Inverse regularisation strength (chosen on the held-out sets; lower underfits the
            # 70 labels, higher overfits the training wording).
            "C": 50.0,
            # Weight of the embedding beside the TF-IDF vectors (each row of which has length 1).
            "meaning_weight": 2.0,
            # Words and word pairs seen in fewer training lines than this are left out: one-off pairs
            # add weights to fit (the fit's time grows with them) and nothing measurable to accuracy.
            "min_df": 2,
            # Character n-grams beside the words ((2, 4) for 2- to 4-grams), or None: on the held-out
            # sets they changed accuracy by less than a point either way and doubled the fit's time.
            "char_ngrams": None,
            "max_iter": 3000,
            # The k training lines nearest in meaning vote for their labels (nlu/neighbours.py), and
            # the votes make up this share of each label's probability. Measured on the held-out sets
            # with the FAQ gate and fallback thresholds unchanged (docs/performance.md): FAQ-topic
            # accuracy +2 to +3 points on the 382-line and hard sets, hard-set intent accuracy +0.6.
            "neighbours": 10,
            "neighbour_temperature": 0.02,
            "neighbour_weight": 0.4,
            "retrieval_intent": "faq",
            # A line that asks two things ("where is order 48219, and also how do I return the shoes?")
            # is read for the first where the first part alone is at least this sure of one of these
            # intents (or FAQ topics): the customer gets the first thing asked, not whichever of the two
            # the whole line leans to. A request for a ticket or a person anywhere in the line still wins
            # (ExplicitRequest).
            "first_request_confidence": 0.5,
            "first_request_intents": ["faq", "open_ticket", "check_ticket_status", "add_ticket_info",
                                      "request_human", "give_feedback"],
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["sklearn"]

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource) -> None:
        self.config = {**self.get_default_config(), **config}
        self.retrieval_intent = str(self.config["retrieval_intent"])
        self._model_storage = model_storage
        self._resource = resource
        self.vectorizers: list[Any] = []
        self.model: Any = None
        self.neighbours: Neighbours | None = None
        self.responses: dict[str, list[dict]] = {}

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> MeaningClassifier:
        return cls(config, model_storage, resource)

    # --- features -------------------------------------------------------------------------

    def _features(self, messages: list[Message]) -> tuple[np.ndarray, Any]:
        return self._matrices([words(message) for message in messages], [meaning(message) for message in messages])

    def _matrices(self, texts: list[str], vectors: list[np.ndarray | None]) -> tuple[np.ndarray, Any]:
        """The lines' embeddings (no columns where a line has none, as without the featurizer) and
        the TF-IDF vectors of their words."""
        sparse = sp.hstack([vectorizer.transform(texts) for vectorizer in self.vectorizers]).tocsr()
        if vectors and all(vector is not None for vector in vectors):
            dense = np.vstack(vectors) * float(self.config["meaning_weight"])
        else:
            dense = np.zeros((len(texts), 0))
        return dense, sparse

    @staticmethod
    def _label(message: Message) -> str:
        return message.get(INTENT_RESPONSE_KEY) or message.get(INTENT)

    # --- training -------------------------------------------------------------------------

    def train(self, training_data: TrainingData) -> Resource:
        from sklearn.feature_extraction.text import TfidfVectorizer

        from nlu.softmax import fit

        examples = [m for m in training_data.intent_examples if m.get(INTENT) and m.get(TEXT)]
        labels = [self._label(m) for m in examples]
        texts = [words(m) for m in examples]
        min_df = int(self.config["min_df"])
        self.vectorizers = [TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=min_df).fit(texts)]
        if self.config["char_ngrams"]:
            low, high = self.config["char_ngrams"]
            self.vectorizers.append(TfidfVectorizer(sublinear_tf=True, analyzer="char_wb", ngram_range=(low, high),
                                                    min_df=min_df).fit(texts))
        dense, sparse = self._features(examples)
        self.model = fit(dense, sparse, labels, C=float(self.config["C"]), max_iter=int(self.config["max_iter"]))
        self.neighbours = Neighbours.of(dense, labels, list(self.model.classes_)) if dense.shape[1] else None
        self.responses = dict(training_data.responses)
        self.persist()
        return self._resource

    def persist(self) -> None:
        import joblib

        with self._model_storage.write_to(self._resource) as folder:
            joblib.dump({"vectorizers": self.vectorizers, "model": self.model, "neighbours": self.neighbours},
                        folder / "meaning.joblib")
            (folder / "responses.json").write_text(json.dumps(self.responses), encoding="utf-8")

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> MeaningClassifier:
        import joblib

        component = cls(config, model_storage, resource)
        try:
            with model_storage.read_from(resource) as folder:
                stored = joblib.load(folder / "meaning.joblib")  # written by our own training
                component.responses = json.loads((folder / "responses.json").read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError):
            logger.warning("MeaningClassifier has no trained model in %s; it will classify nothing", resource.name)
            return component
        component.vectorizers, component.model = stored["vectorizers"], stored["model"]
        component.neighbours = stored.get("neighbours")
        return component

    # --- prediction -----------------------------------------------------------------------

    def process(self, messages: list[Message]) -> list[Message]:
        if self.model is None or not messages:
            return messages
        probabilities = self._probabilities(*self._features(messages))
        labels = list(self.model.classes_)
        for message, row in zip(messages, probabilities, strict=True):
            self._set(message, labels, self._first_of_two(message, labels, row))
        return messages

    def _probabilities(self, dense: np.ndarray, sparse: Any) -> np.ndarray:
        """Each line's label probabilities: the regression's, with the nearest training lines' votes
        mixed in where the lines have embeddings."""
        probabilities = self.model.predict_proba(dense, sparse)
        weight = float(self.config["neighbour_weight"])
        if self.neighbours is None or not dense.shape[1] or weight <= 0:
            return probabilities
        votes = self.neighbours.vote(dense, int(self.config["neighbours"]), float(self.config["neighbour_temperature"]))
        return (1 - weight) * probabilities + weight * votes

    def _first_of_two(self, message: Message, labels: list[str], row: np.ndarray) -> np.ndarray:
        """`row` (the whole line's label probabilities), or the first request's where the line asks
        two things and its first part alone is sure of an intent that acts on it (the second request
        is then kept in the message as `second_request`)."""
        first = message.get(FIRST_REQUEST)
        text = message.get(TEXT) or ""
        if not first or explicit_request(text) is not None:
            return row
        end = text.find(first["text"]) + len(first["text"])
        tokens = [token.text for token in message.get(TOKENS_NAMES[TEXT]) or [] if token.end <= end]
        head = self._probabilities(*self._matrices([" ".join(tokens)], [first["meaning"]]))[0]
        best = int(head.argmax())
        wanted = set(self.config["first_request_intents"])
        if head[best] >= float(self.config["first_request_confidence"]) and labels[best].split("/", 1)[0] in wanted:
            # In the parse result, for the bot to say which request it takes first (actions/common.py).
            message.set(SECOND_REQUEST, {"text": first["rest"]}, add_to_output=True)
            return head
        return row

    def _set(self, message: Message, labels: list[str], row: np.ndarray) -> None:
        by_intent: dict[str, float] = {}
        topics: list[tuple[str, float]] = []
        for label, probability in zip(labels, row, strict=True):
            intent = label.split("/", 1)[0]
            by_intent[intent] = by_intent.get(intent, 0.0) + float(probability)
            if intent == self.retrieval_intent and "/" in label:
                topics.append((label, float(probability)))
        ranking = sorted(({INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: confidence}
                          for name, confidence in by_intent.items()), key=lambda r: -r[PREDICTED_CONFIDENCE_KEY])
        message.set(INTENT, dict(ranking[0]), add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking[:RANKING_LENGTH], add_to_output=True)
        if not topics:
            return
        # The topic's confidence is given the line is an FAQ question at all, as Rasa's response
        # selector gives it (the intent's own confidence already says how likely that is).
        total = by_intent.get(self.retrieval_intent) or 1.0
        topics.sort(key=lambda t: -t[1])
        key, probability = topics[0]
        utter = f"utter_{key}"
        selector = message.get(RESPONSE_SELECTOR_PROPERTY_NAME) or {}
        selector[RESPONSE_SELECTOR_RETRIEVAL_INTENTS] = [self.retrieval_intent]
        selector[self.retrieval_intent] = {
            RESPONSE_SELECTOR_PREDICTION_KEY: {
                RESPONSE_SELECTOR_RESPONSES_KEY: self.responses.get(utter) or [{TEXT: key}],
                PREDICTED_CONFIDENCE_KEY: probability / total,
                INTENT_RESPONSE_KEY: key,
                RESPONSE_SELECTOR_UTTER_ACTION_KEY: utter,
            },
            RESPONSE_SELECTOR_RANKING_KEY: [
                {"id": zlib.crc32(name.encode()), PREDICTED_CONFIDENCE_KEY: share / total, INTENT_RESPONSE_KEY: name}
                for name, share in topics[:RANKING_LENGTH]
            ],
        }
        message.set(RESPONSE_SELECTOR_PROPERTY_NAME, selector, add_to_output=True)
