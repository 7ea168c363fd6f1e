"""`python -m bot users create|list`: the password comes from stdin or a prompt, never argv."""

from __future__ import annotations

import io

from bot.cli import main
from bot.db import transaction
from bot.users.service import authenticate


def run(monkeypatch, argv, stdin=""):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(argv)


def test_create_reads_the_password_from_stdin(app_db, monkeypatch, capsys):
    code = run(monkeypatch, ["users", "create", "--role", "manager", "--email", "Mia@Example.com", "--name", "Mia"],
               stdin="a very long password\n")
    assert code == 0
    assert "created manager mia@example.com" in capsys.readouterr().out
    with transaction() as session:
        assert authenticate(session=session, email="mia@example.com", password="a very long password").name == "Mia"


def test_there_is_no_password_option():
    import pytest

    from bot.cli import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["users", "create", "--email", "a@example.com", "--password", "x"])


def test_bad_input_is_a_clear_error_and_creates_nothing(app_db, monkeypatch, capsys):
    assert run(monkeypatch, ["users", "create", "--email", "sam@example.com"], stdin="short\n") == 2
    assert "at least 10 characters" in capsys.readouterr().err
    assert run(monkeypatch, ["users", "create", "--email", "not-an-email"], stdin="long enough pw\n") == 2
    assert run(monkeypatch, ["users", "list"]) == 0
    assert capsys.readouterr().out == ""


def test_a_duplicate_is_refused_and_list_shows_accounts(app_db, monkeypatch, capsys):
    assert run(monkeypatch, ["users", "create", "--email", "sam@example.com"], stdin="long enough pw\n") == 0
    assert run(monkeypatch, ["users", "create", "--email", "SAM@example.com"], stdin="long enough pw\n") == 2
    assert "already exists" in capsys.readouterr().err
    assert run(monkeypatch, ["users", "list", "--role", "agent"]) == 0
    assert "agent\tsam@example.com\tsam\tactive" in capsys.readouterr().out


def test_disable_enable_set_role_and_reset_password(app_db, monkeypatch, capsys):
    run(monkeypatch, ["users", "create", "--email", "ann@example.com", "--role", "admin"],
        stdin="a very long password\n")
    run(monkeypatch, ["users", "create", "--email", "bo@example.com"], stdin="a very long password\n")
    capsys.readouterr()
    assert run(monkeypatch, ["users", "disable", "--email", "BO@example.com"]) == 0
    assert "disabled bo@example.com" in capsys.readouterr().out
    run(monkeypatch, ["users", "list"])
    assert "agent\tbo@example.com\tbo\tdisabled" in capsys.readouterr().out
    assert run(monkeypatch, ["users", "enable", "--email", "bo@example.com"]) == 0
    assert run(monkeypatch, ["users", "set-role", "--email", "bo@example.com", "--role", "manager"]) == 0
    assert "bo@example.com is now manager" in capsys.readouterr().out
    assert run(monkeypatch, ["users", "reset-password", "--email", "bo@example.com"]) == 0
    assert "/reset#token=" in capsys.readouterr().out
    assert run(monkeypatch, ["users", "set-role", "--email", "bo@example.com"]) == 2
    assert "needs --role" in capsys.readouterr().err
    assert run(monkeypatch, ["users", "disable", "--email", "ann@example.com"]) == 2
    assert "only active admin" in capsys.readouterr().err
    assert run(monkeypatch, ["users", "disable", "--email", "nobody@example.com"]) == 2
    assert "no user with the e-mail nobody@example.com" in capsys.readouterr().err
