"""Each table module can be used on its own: the actions server imports only some of them,
and a foreign key to a table nobody imported fails at the first write."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT

MODULES = sorted(f"bot.{path.parent.name}.models" for path in (PROJECT_ROOT / "bot").glob("*/models.py"))


@pytest.mark.parametrize("module", MODULES)
def test_a_models_module_alone_resolves_every_foreign_key(module):
    check = (f"import {module}\n"
             "from bot.db import Base\n"
             "for table in Base.metadata.tables.values():\n"
             "    for key in table.foreign_keys:\n"
             "        key.column\n")
    done = subprocess.run([sys.executable, "-c", check], cwd=Path(PROJECT_ROOT), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-1500:]


def test_every_models_module_is_checked():
    assert len(MODULES) == 9
