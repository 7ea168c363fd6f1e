"""A throw-away PostgreSQL server from Debian's `postgresql` package, on a free port."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from harness.stack import free_port


class PostgresUnavailable(RuntimeError):
    """Why no PostgreSQL server could be started (shown as the skip reason)."""


def _bin_dir() -> Path:
    if shutil.which("initdb") and shutil.which("pg_ctl"):
        return Path(shutil.which("initdb")).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not candidates:
        raise PostgresUnavailable(
            "PostgreSQL is not installed (apt-get install postgresql); `make test` installs it when run as root"
        )
    return Path(candidates[-1]).parent


def fresh_database(server_url: str, name: str, drivername: str | None = None) -> str:
    """An empty database `name` (dropped first if it exists) on the server of `server_url`; its URL,
    with `drivername` instead of the server URL's when given (Rasa's SQLAlchemy wants "postgresql")."""
    from sqlalchemy import create_engine, make_url, text

    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    url = make_url(server_url).set(database=name)
    return (url.set(drivername=drivername) if drivername else url).render_as_string(hide_password=False)


class PostgresServer:
    def __init__(self) -> None:
        self.bin = _bin_dir()
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="support-pg-"))
        self.data = self.root / "data"
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            # initdb refuses to run as root: run the server as the package's postgres user.
            try:
                pwd.getpwnam("postgres")
            except KeyError as error:
                raise PostgresUnavailable("running as root and there is no postgres user") from error
            shutil.chown(self.root, "postgres")
            os.chmod(self.root, 0o700)
            self._as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        result = subprocess.run([*self._as_user, *args], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise PostgresUnavailable(f"{args[0]} failed: {result.stderr.strip() or result.stdout.strip()}")

    def start(self) -> str:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                  "-E", "UTF8", "--no-sync")
        return self.resume()

    def pause(self) -> None:
        """Stop the server (fast shutdown: open connections are cut), keeping its data."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def resume(self) -> str:
        """Start the server on its data and port; its URL once it accepts connections."""
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"), "-w", "start",
            "-o", f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off",
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self.url
            time.sleep(0.2)
        raise PostgresUnavailable("the PostgreSQL server did not accept connections")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        subprocess.run([*self._as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop"],
                       capture_output=True, check=False)
        shutil.rmtree(self.root, ignore_errors=True)
