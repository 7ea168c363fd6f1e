"""The Rasa model's name follows what it is trained from, and nothing else."""

from __future__ import annotations

from harness.modelhash import model_hash


def _project(root):
    (root / "data" / "nlu").mkdir(parents=True)
    (root / "nlu").mkdir()
    (root / "config.yml").write_text("pipeline: []\n")
    (root / "domain.yml").write_text("intents: [greet]\n")
    (root / "data" / "nlu" / "core.yml").write_text("nlu: []\n")
    (root / "nlu" / "components.py").write_text("X = 1\n")
    (root / "data" / "classification.yml").write_text("requests: []\n")
    return root


def test_our_pipeline_code_and_the_data_name_the_model(tmp_path):
    root = _project(tmp_path)
    before = model_hash(root)

    (root / "nlu" / "components.py").write_text("X = 2\n")
    after_code = model_hash(root)
    (root / "data" / "nlu" / "core.yml").write_text("nlu: [1]\n")

    assert len({before, after_code, model_hash(root)}) == 3


def test_the_ticket_classifiers_examples_do_not_retrain_rasa(tmp_path):
    root = _project(tmp_path)
    before = model_hash(root)

    (root / "data" / "classification.yml").write_text("requests: [{text: x}]\n")

    assert model_hash(root) == before
