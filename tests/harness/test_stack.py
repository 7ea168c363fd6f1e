"""How `make run` starts the processes (commands only; the real start is the e2e tests')."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from bot.settings import PROJECT_ROOT, Settings
from harness.stack import Stack, StackError, free_port, tracker_store_section


def test_a_rasa_token_starting_with_a_dash_is_not_taken_for_an_option():
    stack = Stack(model=Path("models/x.tar.gz"), rasa_token="-Ab_12")
    [rasa] = [service for service in stack._services() if service.name == "rasa-0"]
    assert "--auth-token=-Ab_12" in rasa.command
    assert "--auth-token" not in rasa.command  # never as a separate word followed by the value
    assert rasa.health_url.endswith("token=-Ab_12")


def test_an_unset_tracker_store_is_an_sqlite_file_of_rasas_own():
    assert tracker_store_section(None) == {"type": "SQL", "dialect": "sqlite",
                                           "db": str(PROJECT_ROOT / "var" / "rasa-trackers.db")}


def test_a_postgresql_tracker_store_is_taken_apart_as_rasa_wants_it():
    assert tracker_store_section("postgresql://rasa:p%40ss@db.internal:5433/rasa_trackers") == {
        "type": "SQL", "dialect": "postgresql", "url": "db.internal", "port": 5433, "db": "rasa_trackers",
        "username": "rasa", "password": "p@ss"}


def test_a_redis_tracker_store_keeps_its_database_number_and_password():
    assert tracker_store_section("redis://:secret@cache:6380/2") == {
        "type": "redis", "url": "cache", "port": 6380, "db": 2, "password": "secret", "key_prefix": "tracker",
        "record_exp": 30 * 86400}  # a conversation expires RASA_TRACKER_KEEP_DAYS after its last line
    assert tracker_store_section("redis://cache", keep_days=0.5)["record_exp"] == 43200


def test_the_endpoints_file_names_the_tracker_store(tmp_path):
    stack = Stack(model=Path("models/x.tar.gz"), rasa_port=free_port(),
                  tracker_store=f"sqlite:///{tmp_path / 'trackers.db'}")
    endpoints = yaml.safe_load(stack.endpoints_file().read_text(encoding="utf-8"))
    assert endpoints["tracker_store"] == {"type": "SQL", "dialect": "sqlite", "db": str(tmp_path / "trackers.db")}
    assert endpoints["action_endpoint"]["url"].endswith(f":{stack.action_port}/webhook")


def test_rasa_sends_the_action_server_token_from_its_environment_not_from_the_file(tmp_path):
    stack = Stack(model=Path("models/x.tar.gz"), rasa_port=free_port(), action_token="a" * 40,
                  tracker_store=f"sqlite:///{tmp_path / 'trackers.db'}")
    path = stack.endpoints_file()
    text = path.read_text(encoding="utf-8")
    # Unquoted, so that Rasa expands it (a quoted "${...}" is taken literally).
    assert "Authorization: Bearer ${ACTION_SERVER_TOKEN}\n" in text and "a" * 40 not in text
    assert path.stat().st_mode & 0o077 == 0  # the tracker store's password may be in it
    [actions] = [service for service in stack._services() if service.name == "actions"]
    assert actions.command[1:3] == ["-m", "actions.server"]
    env = stack._environment(actions)
    assert env["ACTION_SERVER_TOKEN"] == "a" * 40 and env["ACTION_HOST"] == stack.host


def test_a_tracker_store_rasa_cannot_use_is_refused_with_a_clear_message(monkeypatch):
    with pytest.raises(StackError, match="sqlite:///, postgresql:// or redis://"):
        tracker_store_section("mongodb://localhost/rasa")
    monkeypatch.setenv("RASA_TRACKER_STORE", "mysql://localhost/rasa")
    with pytest.raises(ValidationError, match="RASA_TRACKER_STORE must be"):
        Settings()


def test_a_postgresql_tracker_store_without_credentials_names_none():
    section = tracker_store_section("postgresql:///rasa_trackers")
    assert (section["url"], section["db"], section["username"], section["password"]) == (
        "localhost", "rasa_trackers", None, None)


def test_rasa_shards_are_one_rasa_server_each_on_consecutive_ports_and_the_api_is_told_all_of_them():
    stack = Stack(model=Path("models/x.tar.gz"), rasa_port=6100, rasa_shards=3)
    rasas = [service for service in stack._services() if service.name.startswith("rasa")]
    assert [service.name for service in rasas] == ["rasa-0", "rasa-1", "rasa-2"]
    assert [service.command[service.command.index("--port") + 1] for service in rasas] == ["6100", "6101", "6102"]
    assert stack._environment()["RASA_URL"] == "http://127.0.0.1:6100,http://127.0.0.1:6101,http://127.0.0.1:6102"


def test_no_rasa_shard_at_all_is_refused_at_start():
    with pytest.raises(StackError, match="RASA_SHARDS must be at least 1"):
        Stack(model=Path("models/x.tar.gz"), rasa_shards=0)


def test_several_rasa_shards_compute_on_one_thread_each_unless_told_otherwise(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    one = Stack(model=Path("models/x.tar.gz"), rasa_shards=1)
    [rasa] = [service for service in one._services() if service.name.startswith("rasa")]
    assert "OMP_NUM_THREADS" not in one._environment(rasa)

    two = Stack(model=Path("models/x.tar.gz"), rasa_shards=2)
    services = {service.name: service for service in two._services()}
    for name in ("rasa-0", "rasa-1"):
        env = two._environment(services[name])
        assert (env["OMP_NUM_THREADS"], env["TF_INTRA_OP_PARALLELISM_THREADS"]) == ("1", "1")
    assert "OMP_NUM_THREADS" not in two._environment(services["api"])

    monkeypatch.setenv("OMP_NUM_THREADS", "2")  # an operator's own setting wins
    assert two._environment(services["rasa-0"])["OMP_NUM_THREADS"] == "2"
