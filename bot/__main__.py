"""Command line: `python -m bot db upgrade`, `python -m bot run`, `python -m bot model-path`."""

from bot.cli import main

raise SystemExit(main())
