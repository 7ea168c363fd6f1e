"""Command line: `python -m bot db upgrade`, `python -m bot users create`, `python -m bot export ...`."""

from bot.cli import main

raise SystemExit(main())
