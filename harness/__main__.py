"""Command line: `python -m harness run`, `python -m harness rasa eval`, `python -m harness bench`."""

from harness.cli import main

raise SystemExit(main())
