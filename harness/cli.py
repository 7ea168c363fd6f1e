"""The command line for running, testing and measuring the system (`python -m harness ...`):
what `make run`, `make shell`, `make test`, `make eval` and `make bench` call."""

from __future__ import annotations

import argparse
import sys

from bot.settings import get_settings


def _model(args: argparse.Namespace) -> int:
    from harness.modelhash import model_hash, model_path

    if args.what == "classifier":
        from bot.tickets.textcat import build, model_dir

        existed = model_dir().is_dir()
        print(("classifier up to date: " if existed else "classifier trained: ") + str(build()))
        return 0
    print(model_path() if args.what == "path" else model_hash())
    return 0


def _run(args: argparse.Namespace) -> int:
    from harness.modelhash import model_path
    from harness.stack import Stack, run_forever

    settings = get_settings()
    stack = Stack(
        model=model_path(),
        rasa_port=settings.rasa_port,
        action_port=settings.action_port,
        api_port=settings.api_port,
        host=settings.api_host,
        tracker_store=settings.rasa_tracker_store,
        tracker_keep_days=settings.rasa_tracker_keep_days,
        rasa_shards=settings.rasa_shards,
        api_workers=settings.api_workers,
        colour=sys.stdout.isatty(),
        emit=lambda line: print(line, flush=True),
    )
    return run_forever(stack)


def _rasa(args: argparse.Namespace) -> int:
    from harness import rasa

    if args.what == "record-stories":
        tests = rasa.PROJECT_ROOT / "tests"
        return rasa.record_stories(tests / "stories" / "conversations.yml", tests / "test_stories.yml")
    return {"validate": rasa.validate, "test-stories": rasa.test_stories, "eval": rasa.evaluate}[args.what]()


def _shell(args: argparse.Namespace) -> int:
    from harness.stack import chat_in_terminal

    return chat_in_terminal()


def _bench(args: argparse.Namespace) -> int:
    from harness.bench import main as bench

    if args.reports_only:
        from harness.bench.reports import reports_lines

        reports_lines()
        return 0
    return bench(levels=args.levels, level_seconds=args.level_seconds, skip_training=args.skip_training,
                 gateway_only=args.gateway_only, conversations=args.conversations, scale_only=args.scale_only)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m harness", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    model = commands.add_parser("model", help="the trained models the current data needs")
    model.add_argument("what", choices=["hash", "path", "classifier"],
                       help="the Rasa model's hash or path, or build the ticket classifier (data/classification.yml)")
    model.set_defaults(handler=_model)

    run = commands.add_parser("run", help="start Rasa, the action server and the API together")
    run.set_defaults(handler=_run)

    shell = commands.add_parser("shell", help="chat with the assistant in this terminal")
    shell.set_defaults(handler=_shell)

    rasa = commands.add_parser("rasa", help="Rasa checks: data validation, test stories, NLU evaluation")
    rasa.add_argument("what", choices=["validate", "test-stories", "eval", "record-stories"])
    rasa.set_defaults(handler=_rasa)

    bench = commands.add_parser("bench", help="training time, parse latency, throughput and capacity")
    bench.add_argument("--levels", type=int, nargs="+", default=[50, 100, 150, 200, 250, 300, 400],
                       help="capacity: customers with 10 s pauses, tried in turn until p95 exceeds 300 ms")
    bench.add_argument("--level-seconds", type=float, default=90.0)
    bench.add_argument("--conversations", type=int, default=10_000,
                       help="conversations each Rasa shard serves while its resident memory is sampled")
    bench.add_argument("--skip-training", action="store_true")
    bench.add_argument("--gateway-only", action="store_true",
                       help="only the gateway overhead and relay latency (printed; docs/performance.md left alone)")
    bench.add_argument("--scale-only", action="store_true",
                       help="only one Rasa shard against two: saturation, burst, capacity, memory, failover "
                            "(printed; docs/performance.md left alone)")
    bench.add_argument("--reports-only", action="store_true",
                       help="only the KPI summary and export figures (printed; docs/performance.md left alone)")
    bench.set_defaults(handler=_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)
