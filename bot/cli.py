"""The project's command-line interface."""

from __future__ import annotations

import argparse
import sys

from bot.settings import get_settings


def _db(args: argparse.Namespace) -> int:
    from bot import migrate

    if args.action == "upgrade":
        migrate.upgrade(revision=args.revision or "head")
    elif args.action == "downgrade":
        migrate.downgrade(revision=args.revision or "base")
    elif args.action == "revision":
        migrate.make_revision(args.message or "schema change")
    return 0


def _model(args: argparse.Namespace) -> int:
    from bot.modelhash import model_hash, model_path

    print(model_path() if args.what == "path" else model_hash())
    return 0


def _run(args: argparse.Namespace) -> int:
    from bot.modelhash import model_path
    from bot.stack import Stack, run_forever

    settings = get_settings()
    stack = Stack(
        model=model_path(),
        rasa_port=settings.rasa_port,
        action_port=settings.action_port,
        api_port=settings.api_port,
        host=settings.api_host,
        colour=sys.stdout.isatty(),
        emit=lambda line: print(line, flush=True),
    )
    return run_forever(stack)


def _rasa(args: argparse.Namespace) -> int:
    from bot import rasatools

    if args.what == "record-stories":
        root = rasatools.PROJECT_ROOT
        return rasatools.record_stories(root / "tests" / "stories" / "conversations.yml",
                                        root / "tests" / "test_stories.yml")
    return {"validate": rasatools.validate, "test-stories": rasatools.test_stories,
            "eval": rasatools.evaluate}[args.what]()


def _shell(args: argparse.Namespace) -> int:
    from bot.stack import chat_in_terminal

    return chat_in_terminal()


def _bench(args: argparse.Namespace) -> int:
    from bot.bench import main as bench

    return bench(levels=args.levels, level_seconds=args.level_seconds, skip_training=args.skip_training)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    db = commands.add_parser("db", help="apply or roll back database migrations")
    db.add_argument("action", choices=["upgrade", "downgrade", "revision"])
    db.add_argument("--revision", help="target revision (default: head / base)")
    db.add_argument("-m", "--message", help="message for a new revision")
    db.set_defaults(handler=_db)

    model = commands.add_parser("model", help="the trained model the current data needs")
    model.add_argument("what", choices=["hash", "path"])
    model.set_defaults(handler=_model)

    run = commands.add_parser("run", help="start Rasa, the action server and the API together")
    run.set_defaults(handler=_run)

    rasa = commands.add_parser("rasa", help="Rasa checks: data validation, test stories, NLU evaluation")
    rasa.add_argument("what", choices=["validate", "test-stories", "eval", "record-stories"])
    rasa.set_defaults(handler=_rasa)

    bench = commands.add_parser("bench", help="training time, parse latency, throughput and capacity")
    bench.add_argument("--levels", type=int, nargs="+", default=[50, 100, 150, 200, 300])
    bench.add_argument("--level-seconds", type=float, default=90.0)
    bench.add_argument("--skip-training", action="store_true")
    bench.set_defaults(handler=_bench)

    shell = commands.add_parser("shell", help="chat with the assistant in this terminal")
    shell.set_defaults(handler=_shell)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)
