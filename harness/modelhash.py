"""Content hash of everything a trained Rasa model depends on, to name and reuse models."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from bot.settings import PROJECT_ROOT

# The data, and the code of our own pipeline components (nlu/), which shapes what is trained.
MODEL_INPUTS = ("config.yml", "domain.yml", "data", "nlu")
SUFFIXES = (".yml", ".yaml", ".py")
# Under data/ but not Rasa's: the ticket classifier's examples (bot/tickets/textcat.py names its own model).
NOT_RASA = ("data/classification.yml",)


def training_files(root: Path = PROJECT_ROOT) -> list[Path]:
    files: list[Path] = []
    for name in MODEL_INPUTS:
        path = root / name
        if path.is_dir():
            files.extend(sorted(
                p for p in path.rglob("*")
                if p.is_file() and p.suffix in SUFFIXES and p.relative_to(root).as_posix() not in NOT_RASA
            ))
        elif path.is_file():
            files.append(path)
    return files


def model_hash(root: Path = PROJECT_ROOT) -> str:
    digest = hashlib.sha256()
    for path in training_files(root):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def model_path(root: Path = PROJECT_ROOT) -> Path:
    """The model for the current data, or the one named by RASA_MODEL (to try a
    model trained elsewhere without retraining)."""
    override = os.environ.get("RASA_MODEL")
    if override:
        return Path(override).resolve()
    return root / "models" / f"{model_hash(root)}.tar.gz"
