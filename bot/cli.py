"""The command line that operators run: migrations, staff accounts, exports, alerts
(`python -m bot ...`). Running, testing and measuring the system is `python -m harness ...`."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from bot.settings import get_settings


def _db(args: argparse.Namespace) -> int:
    from bot import migrate

    if args.action == "upgrade":
        migrate.upgrade(revision=args.revision or "head")
    elif args.action == "downgrade":
        migrate.downgrade(revision=args.revision or "base")
    elif args.action == "revision":
        migrate.make_revision(args.message or "schema change")
    elif args.action == "recount":
        migrate.recount()
    return 0


def _read_password() -> str:
    """From a prompt (typed twice) on a terminal, else the first line of standard input;
    never from the command line, where it would land in shell history and `ps`."""
    import getpass

    if sys.stdin.isatty():
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise ValueError("the two passwords differ")
        return password
    return sys.stdin.readline().rstrip("\r\n")


def _users(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from bot.db import transaction
    from bot.users.schemas import UserCreate
    from bot.users.service import create_user, list_users

    if args.action == "list":
        with transaction() as session:
            for user in list_users(session=session, role=args.role):
                state = "active" if user.active else "disabled"
                print(f"{user.id}\t{user.role}\t{user.email}\t{user.name}\t{state}")
        return 0
    if not args.email:
        print("error: --email is required", file=sys.stderr)
        return 2
    if args.action != "create":
        return _change_user(args)
    try:
        data = UserCreate(email=args.email, name=args.name or args.email.split("@")[0],
                          role=args.role or "agent", password=_read_password())
        with transaction() as session:
            user = create_user(session=session, data=data)
            print(f"created {user.role} {user.email} (id {user.id})")
    except ValidationError as error:
        print("error: " + "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in error.errors()),
              file=sys.stderr)
        return 2
    except ValueError as error:  # UserError, or the passwords typed differ
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def _change_user(args: argparse.Namespace) -> int:
    """disable, enable, set-role, reset-password: one account, named by its e-mail."""
    from bot.audit.service import cli_actor, record
    from bot.db import transaction
    from bot.users.service import UserError, disable_user, enable_user, get_user_by_email, reset_link, set_role

    if args.action == "set-role" and not args.role:
        print("error: set-role needs --role", file=sys.stderr)
        return 2
    try:
        with transaction() as session:
            user = get_user_by_email(session=session, email=args.email)
            if user is None:
                raise UserError(f"there is no user with the e-mail {args.email.strip().lower()}")
            was = user.role
            if args.action == "disable":
                disable_user(session=session, user_id=user.id)
                print(f"disabled {user.email}; their sessions have ended")
            elif args.action == "enable":
                enable_user(session=session, user_id=user.id)
                print(f"enabled {user.email}")
            elif args.action == "set-role":
                set_role(session=session, user_id=user.id, role=args.role)
                print(f"{user.email} is now {user.role}; they sign in again")
            else:
                link, expires_at = reset_link(session=session, user_id=user.id)
                print(f"one-time link for {user.email}, valid until {expires_at:%Y-%m-%d %H:%M} UTC:\n{link}")
            action = {"disable": "user.disabled", "enable": "user.enabled", "set-role": "user.role_changed",
                      "reset-password": "user.reset_link"}[args.action]
            details = {"old": was, "new": user.role} if args.action == "set-role" else {}
            record(session, action, actor=cli_actor(), target=f"user:{user.id}",
                   details={"email": user.email, **details})
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def _privacy(args: argparse.Namespace) -> int:
    import json

    from bot.audit.service import cli_actor
    from bot.privacy.run import erase_customer, export_customer

    try:
        if args.action == "export":
            text = json.dumps(export_customer(args.email, actor=cli_actor()), ensure_ascii=False, indent=2)
            if args.output:
                with open(args.output, "w", encoding="utf-8") as handle:
                    handle.write(text + "\n")
                print(f"wrote {args.output}", file=sys.stderr)
            else:
                print(text)
            return 0
        if not args.yes:
            print("error: erasing cannot be undone; add --yes to do it", file=sys.stderr)
            return 2
        counts = erase_customer(args.email, actor=cli_actor())
    except ValueError as error:  # not an e-mail address
        print(f"error: {error}", file=sys.stderr)
        return 2
    print("erased: " + ", ".join(f"{count} {what.replace('_', ' ')}" for what, count in counts.items()))
    return 0


def _export(args: argparse.Namespace) -> int:
    """Write one dataset to a file (as `GET /api/v1/exports/{dataset}`), with a progress bar on a
    terminal. The file appears only when complete: it is written as FILE.part, then renamed."""
    from pydantic import ValidationError
    from tqdm import tqdm

    from bot.db import read_transaction
    from bot.reports.exports import build_export, csv_chunks, ndjson_chunks, write_xlsx
    from bot.reports.period import PeriodError, ReportFilters, requested_period

    try:
        period = requested_period(args.first, args.last, get_settings())
        filters = ReportFilters(agent_id=args.agent_id, category=args.category, priority=args.priority,
                                classification=args.classification, owner=args.owner)
    except (PeriodError, ValidationError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    target = Path(args.output)
    part = target.with_name(target.name + ".part")
    try:
        with read_transaction() as connection:
            export = build_export(connection, args.dataset, period, filters, redact=args.redact)
            rows = tqdm(export.rows, total=export.count, unit=" rows", disable=None, file=sys.stderr)
            if args.format == "xlsx":
                write_xlsx(str(part), export.dataset, export.columns, rows)
            else:
                chunks = csv_chunks if args.format == "csv" else ndjson_chunks
                with open(part, "wb") as handle:
                    for chunk in chunks(export.columns, rows):
                        handle.write(chunk)
        part.replace(target)
    finally:
        part.unlink(missing_ok=True)
    print(f"wrote {export.count} {args.dataset} rows ({period.first} to {period.last}) to {target}")
    return 0


def _alerts(args: argparse.Namespace) -> int:
    """`check`: evaluate the rules once and send new alerts to the webhook (for cron, when the
    API's own check is off); `list`: the active alerts. Exit status 1 while any is active."""
    from bot.alerts.service import active_alerts, deliver_pending, evaluate
    from bot.db import transaction

    if args.action == "check":
        active = evaluate()
        deliver_pending()
    else:
        with transaction() as session:
            active = active_alerts(session=session)
    for alert in active:
        print(f"{alert.fired_at:%Y-%m-%d %H:%M} {alert.rule_key}: {alert.message}")
    if not active:
        print("no active alerts")
    return 1 if active else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    db = commands.add_parser("db", help="apply or roll back database migrations; recount the reports' "
                             "kept figures after rows were loaded around the application")
    db.add_argument("action", choices=["upgrade", "downgrade", "revision", "recount"])
    db.add_argument("--revision", help="target revision (default: head / base)")
    db.add_argument("-m", "--message", help="message for a new revision")
    db.set_defaults(handler=_db)

    users = commands.add_parser(
        "users", help="staff accounts: create (password from a prompt or stdin), list, disable, enable, set-role, "
        "reset-password (prints a one-time link); all but create and list end the account's sessions")
    users.add_argument("action", choices=["create", "list", "disable", "enable", "set-role", "reset-password"])
    users.add_argument("--email")
    users.add_argument("--name", help="shown to customers, e.g. 'Sam' (default: the e-mail's local part)")
    users.add_argument("--role", choices=["agent", "manager", "admin"],
                       help="for create (default: agent) and set-role; for list, only this role")
    users.set_defaults(handler=_users)

    export = commands.add_parser("export", help="write survey responses, feedback, tickets or conversations to a file")
    export.add_argument("dataset", choices=["survey_responses", "feedback", "tickets", "conversations"])
    export.add_argument("--format", choices=["csv", "xlsx", "ndjson"], default="csv")
    export.add_argument("--from", dest="first", type=date.fromisoformat, help="first day, YYYY-MM-DD "
                        "(default: 29 days before --to)")
    export.add_argument("--to", dest="last", type=date.fromisoformat, help="last day, included (default: today)")
    export.add_argument("-o", "--output", required=True, help="the file to write")
    export.add_argument("--redact", action="store_true", help="mask e-mails, phone and card numbers in free text")
    export.add_argument("--agent-id", type=int)
    export.add_argument("--category")
    export.add_argument("--priority")
    export.add_argument("--classification")
    export.add_argument("--owner", choices=["bot", "human"])
    export.set_defaults(handler=_export)

    privacy = commands.add_parser("privacy", help="everything held about one customer, by e-mail: export (JSON) "
                                  "or erase (names, addresses and texts removed everywhere, Rasa's state too; "
                                  "counts kept)")
    privacy.add_argument("action", choices=["export", "erase"])
    privacy.add_argument("--email", required=True)
    privacy.add_argument("-o", "--output", help="export: the file to write (default: standard output)")
    privacy.add_argument("--yes", action="store_true", help="erase: do it (it cannot be undone)")
    privacy.set_defaults(handler=_privacy)

    alerts = commands.add_parser("alerts", help="evaluate the alert rules (check) or show the active alerts (list)")
    alerts.add_argument("action", choices=["check", "list"])
    alerts.set_defaults(handler=_alerts)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)
