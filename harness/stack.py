"""Starts the Rasa server, the action server and the API together, with prefixed
logs, health checks before "ready" and a clean stop of all three."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx
import yaml

from bot.settings import PROJECT_ROOT
from bot.trackers import sqlite_path, tracker_store_url

RASA_BIN = PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"
# Each Rasa shard computes on one thread (the embedding's OpenMP, TensorFlow's pools). Left to use
# every core, two shards on one machine spin against each other: measured on 2 cores, 2.7 msg/s
# for both together instead of 32 (docs/performance.md). One shard alone is a little faster with
# both cores, so it keeps them.
ONE_CORE = {"OMP_NUM_THREADS": "1", "TF_INTRA_OP_PARALLELISM_THREADS": "1", "TF_INTER_OP_PARALLELISM_THREADS": "1"}
COLOURS = {"rasa": "\033[35m", "actions": "\033[36m", "api": "\033[32m"}  # by name before any "-"
RESET = "\033[0m"


def tracker_store_section(url: str | None, keep_days: float = 30.0) -> dict:
    """The `tracker_store` part of Rasa's endpoints.yml for a sqlite:///, postgresql:// or
    redis:// URL (Rasa 3.6 takes host, port, database and credentials apart, not a URL). Unset:
    an SQLite file of Rasa's own, beside ours (bot.trackers.DEFAULT_TRACKER_STORE). A Redis
    conversation expires `keep_days` after its last line; SQL events are purged by bot.trackers."""
    url = tracker_store_url(url)
    parsed = urlsplit(url)
    if parsed.scheme == "sqlite":
        database = Path(sqlite_path(url))
        database.parent.mkdir(parents=True, exist_ok=True)
        return {"type": "SQL", "dialect": "sqlite", "db": str(database)}
    if parsed.scheme == "postgresql":
        return {"type": "SQL", "dialect": "postgresql", "url": parsed.hostname or "localhost",
                "port": parsed.port or 5432, "db": unquote(parsed.path.lstrip("/")) or "rasa",
                # None when the URL names none (a local socket with peer authentication).
                "username": unquote(parsed.username) if parsed.username else None,
                "password": unquote(parsed.password) if parsed.password else None}
    if parsed.scheme == "redis":
        return {"type": "redis", "url": parsed.hostname or "localhost", "port": parsed.port or 6379,
                "db": int(parsed.path.lstrip("/") or 0), "password": unquote(parsed.password or "") or None,
                "key_prefix": "tracker", "record_exp": round(keep_days * 86400)}
    raise StackError(f"RASA_TRACKER_STORE must be a sqlite:///, postgresql:// or redis:// URL, not {url!r}")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def workers_of(supervisor: int) -> set[int]:
    """The uvicorn worker processes under `supervisor` (its children that run uvicorn's worker,
    not multiprocessing's resource tracker), from whichever of its threads started them."""
    children = {int(pid) for task in Path(f"/proc/{supervisor}/task").iterdir()
                for pid in (task / "children").read_text().split()}
    workers = set()
    for pid in children:
        try:
            if b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes():
                workers.add(pid)
        except FileNotFoundError:  # it ended between the two reads
            pass
    return workers


class StackError(RuntimeError):
    """A process failed to start or died."""


@dataclass
class Service:
    name: str
    command: list[str]
    health_url: str
    # Settings of this process's own, unless the environment already has them.
    defaults: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None
    pump: threading.Thread | None = None


# The largest WebSocket frame the API takes (uvicorn closes the socket with 1009 beyond it; its
# default is 16 MiB). A chat line is at most CHAT_MAX_MESSAGE_CHARS; 64 KiB leaves room for JSON.
WS_MAX_BYTES = 65536


@dataclass
class Stack:
    model: Path
    rasa_port: int = 5005
    action_port: int = 5055
    api_port: int = 8000
    host: str = "127.0.0.1"
    env: dict[str, str] = field(default_factory=dict)
    # Guards Rasa's HTTP API (trigger intents, trackers, /model/parse); the REST channel stays open.
    # RASA_TOKEN when set, so a Rasa server run elsewhere can share it; else fresh for each start.
    rasa_token: str = field(default_factory=lambda: os.environ.get("RASA_TOKEN") or secrets.token_urlsafe(24))
    # The action server answers only calls carrying this (actions/server.py); Rasa sends it.
    # ACTION_SERVER_TOKEN when set; else fresh for each start.
    action_token: str = field(
        default_factory=lambda: os.environ.get("ACTION_SERVER_TOKEN") or secrets.token_urlsafe(24))
    # A Prometheus scraper's token for every process's GET /metrics (METRICS_TOKEN when set; else fresh for
    # each start, written to var/metrics-token for the operator's scraper).
    metrics_token: str = field(
        default_factory=lambda: os.environ.get("METRICS_TOKEN") or secrets.token_urlsafe(32))
    # Where prefixed log lines go; tests collect them instead of printing.
    emit: Callable[[str], None] = print
    # When set, each process writes its output straight to <log_dir>/<name>.log instead of
    # through `emit` (no reader threads here: benchmarks use it so as not to time themselves).
    log_dir: Path | None = None
    colour: bool = False
    services: list[Service] = field(default_factory=list)
    # Where Rasa keeps conversations (RASA_TRACKER_STORE); unset: DEFAULT_TRACKER_STORE.
    tracker_store: str | None = None
    tracker_keep_days: float = 30.0
    # How many Rasa servers (RASA_SHARDS), named rasa-0, rasa-1, ...; on `rasa_ports`, else on
    # rasa_port and the ports after it.
    rasa_shards: int = 1
    rasa_ports: list[int] = field(default_factory=list)
    # How many API processes (API_WORKERS): uvicorn's own supervisor starts and restarts them.
    api_workers: int = 1

    def __post_init__(self) -> None:
        if self.rasa_shards < 1:
            raise StackError(f"RASA_SHARDS must be at least 1, not {self.rasa_shards}")
        if not self.rasa_ports:
            self.rasa_ports = [self.rasa_port + shard for shard in range(self.rasa_shards)]
        if len(self.rasa_ports) != self.rasa_shards:
            raise StackError(f"{self.rasa_shards} Rasa shards need as many ports, not {self.rasa_ports}")
        self.rasa_port = self.rasa_ports[0]

    @property
    def rasa_urls(self) -> list[str]:
        return [f"http://{self.host}:{port}" for port in self.rasa_ports]

    def endpoints_file(self) -> Path:
        """endpoints.yml with this stack's action server port and tracker store. The action server's
        token stays out of the file: Rasa reads `${ACTION_SERVER_TOKEN}` (an unquoted value) from its
        environment."""
        path = PROJECT_ROOT / "var" / f"endpoints-{self.rasa_port}.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        endpoints = {
            "action_endpoint": {"url": f"http://{self.host}:{self.action_port}/webhook",
                                "headers": {"Authorization": "Bearer ${ACTION_SERVER_TOKEN}"}},
            "tracker_store": tracker_store_section(self.tracker_store, self.tracker_keep_days),
        }
        path.write_text(yaml.safe_dump(endpoints, sort_keys=False), encoding="utf-8")
        path.chmod(0o600)  # the tracker store's password, when its URL has one
        return path

    def metrics_dir(self) -> Path:
        return PROJECT_ROOT / "var" / f"metrics-{self.api_port}"

    def _services(self) -> list[Service]:
        python = sys.executable
        endpoints = self.endpoints_file()
        return [
            Service(
                "actions",
                [python, "-m", "actions.server", "--port", str(self.action_port)],
                f"http://{self.host}:{self.action_port}/health",
            ),
            *(
                Service(
                    f"rasa-{shard}",
                    [
                        str(RASA_BIN), "run", "--enable-api", "--model", str(self.model),
                        "--interface", self.host, "--port", str(port),
                        "--endpoints", str(endpoints), "--credentials", "credentials.yml",
                        # "=" form: a token may begin with "-", which argparse would take for an option.
                        f"--auth-token={self.rasa_token}",
                    ],
                    f"http://{self.host}:{port}/status?token={self.rasa_token}",
                    ONE_CORE if self.rasa_shards > 1 else {},
                )
                for shard, port in enumerate(self.rasa_ports)
            ),
            Service(
                "api",
                [python, "-m", "uvicorn", "api.main:create_app", "--factory",
                 "--host", self.host, "--port", str(self.api_port), "--ws-max-size", str(WS_MAX_BYTES),
                 *(["--workers", str(self.api_workers)] if self.api_workers > 1 else [])],
                f"http://{self.host}:{self.api_port}/health",
            ),
        ]

    def _environment(self, service: Service | None = None) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.env)
        for key, value in (service.defaults if service else {}).items():
            env.setdefault(key, value)
        env["RASA_URL"] = ",".join(self.rasa_urls)
        env["RASA_TOKEN"] = self.rasa_token
        env["ACTION_SERVER_TOKEN"] = self.action_token
        env["METRICS_TOKEN"] = self.metrics_token
        if service is not None and service.name == "api" and self.api_workers > 1:
            # One view of every API process's metrics, whichever one is scraped (bot/metrics.py).
            env["PROMETHEUS_MULTIPROC_DIR"] = str(self.metrics_dir())
        env["ACTION_HOST"] = self.host
        if self.tracker_store:  # the API prunes it, and forgets in it (erasure, anonymous feedback)
            env["RASA_TRACKER_STORE"] = self.tracker_store
        # Where the API is, for the links it hands out (unless PUBLIC_URL says otherwise).
        env["API_HOST"], env["API_PORT"] = self.host, str(self.api_port)
        env.setdefault("PYTHONUNBUFFERED", "1")
        # Rasa's own telemetry would try to reach the internet.
        env["RASA_TELEMETRY_ENABLED"] = "false"
        env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        env.setdefault("PYTHONWARNINGS", "ignore::DeprecationWarning")
        return env

    def _pump(self, service: Service) -> None:
        assert service.process and service.process.stdout
        prefix = f"{service.name:>7} | "
        if self.colour:
            prefix = f"{COLOURS.get(service.name.split('-')[0], '')}{prefix}{RESET}"
        for line in service.process.stdout:
            self.emit(prefix + line.rstrip("\n"))

    def start(self) -> None:
        if not self.model.is_file():
            raise StackError(f"no trained model at {self.model}; run `make model`")
        if self.api_workers > 1:  # the last run's counts are not this one's
            shutil.rmtree(self.metrics_dir(), ignore_errors=True)
            self.metrics_dir().mkdir(parents=True)
        token_file = PROJECT_ROOT / "var" / "metrics-token"
        token_file.parent.mkdir(parents=True, exist_ok=True)
        token_file.write_text(self.metrics_token + "\n", encoding="utf-8")
        token_file.chmod(0o600)
        self.services = self._services()
        for service in self.services:
            self._launch(service)

    def _launch(self, service: Service) -> None:
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            with open(self.log_dir / f"{service.name}.log", "a", encoding="utf-8") as log:
                service.process = subprocess.Popen(service.command, cwd=PROJECT_ROOT, env=self._environment(service),
                                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            return
        service.process = subprocess.Popen(
            service.command,
            cwd=PROJECT_ROOT,
            env=self._environment(service),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,  # its own process group: Ctrl-C is ours to relay
        )
        service.pump = threading.Thread(target=self._pump, args=(service,), daemon=True)
        service.pump.start()

    def log_tail(self, lines: int = 60) -> str:
        """The last lines each process wrote (with `log_dir`)."""
        if self.log_dir is None:
            return ""
        parts = []
        for service in self.services:
            path = self.log_dir / f"{service.name}.log"
            if path.is_file():
                tail = path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
                parts += [f"{service.name:>7} | {line}" for line in tail]
        return "\n".join(parts)

    def service(self, name: str) -> Service:
        return next(service for service in self.services if service.name == name)

    def stop_service(self, name: str, grace: float = 15.0) -> None:
        """Stop one process (tests use it to show what happens when it is down)."""
        process = self.service(name).process
        if process and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=grace)

    def restart_service(self, name: str, timeout: float = 120.0) -> None:
        service = self.service(name)
        self._launch(service)
        pending, self.services = self.services, [service]
        try:
            self.wait_ready(timeout=timeout)
        finally:
            self.services = pending

    def wait_ready(self, timeout: float = 300.0, cancelled: Callable[[], bool] = lambda: False) -> None:
        """Poll each health URL until it answers 200; the Rasa server needs about a
        minute to load its model."""
        deadline = time.monotonic() + timeout
        pending = list(self.services)
        with httpx.Client(timeout=2.0) as client:
            while pending:
                if cancelled():
                    raise StackError("stopped before every service was ready")
                for service in list(pending):
                    if service.process and service.process.poll() is not None:
                        raise StackError(f"{service.name} exited with code {service.process.returncode}")
                    try:
                        if client.get(service.health_url).status_code == 200:
                            self.emit(f"{service.name:>7} | healthy at {service.health_url.split('?')[0]}")
                            pending.remove(service)
                    except httpx.HTTPError:
                        pass
                if pending and time.monotonic() > deadline:
                    names = ", ".join(service.name for service in pending)
                    raise StackError(f"not healthy after {timeout:.0f}s: {names}")
                if pending:
                    time.sleep(0.5)

    def dead_service(self) -> Service | None:
        return next(
            (s for s in self.services if s.process and s.process.poll() is not None), None
        )

    def stop(self, grace: float = 15.0) -> None:
        for service in self.services:
            if service.process and service.process.poll() is None:
                try:
                    os.killpg(service.process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + grace
        for service in self.services:
            if not service.process:
                continue
            try:
                service.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(service.process.pid, signal.SIGKILL)
                service.process.wait()
        for service in self.services:
            if service.pump:
                service.pump.join(timeout=2)


def run_forever(stack: Stack) -> int:
    """`make run`: start, say ready, and stop everything on Ctrl-C or on a crash."""
    stop_requested = threading.Event()

    def _on_signal(signum, frame):  # noqa: ARG001
        stop_requested.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    stack.start()
    try:
        stack.wait_ready(cancelled=stop_requested.is_set)
        stack.emit(
            f"\nready: chat API http://{stack.host}:{stack.api_port}  "
            f"Rasa {' '.join(stack.rasa_urls)}  actions http://{stack.host}:{stack.action_port}"
            f"\nmetrics: GET /metrics on the API and the actions, /webhooks/rest/metrics on Rasa, with "
            f"'Authorization: Bearer <var/metrics-token>'"
            "\n(Ctrl-C stops them all)"
        )
        while not stop_requested.wait(1.0):
            dead = stack.dead_service()
            if dead:
                stack.emit(f"{dead.name} exited with code {dead.process.returncode}; stopping")
                return 1
        return 0
    except StackError as error:
        stack.emit(f"error: {error}")
        return 1
    finally:
        stack.emit("stopping...")
        stack.stop()
        stack.emit("stopped")


def chat_in_terminal() -> int:
    """`make shell`: the action server in the background, `rasa shell` in the foreground."""
    from bot.settings import get_settings
    from harness.modelhash import model_path

    settings = get_settings()
    stack = Stack(model=model_path(), action_port=settings.action_port, emit=lambda line: None)
    env = stack._environment()
    actions = [s for s in stack._services() if s.name == "actions"]
    stack.services = actions
    actions[0].process = subprocess.Popen(
        actions[0].command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        stack.wait_ready(timeout=60)
        return subprocess.call(
            [str(RASA_BIN), "shell", "--model", str(stack.model), "--endpoints", str(stack.endpoints_file())],
            cwd=PROJECT_ROOT, env=env,
        )
    finally:
        stack.stop()
