"""A throw-away Redis server from Debian's `redis-server` package, on a free port, in memory."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time

from harness.stack import free_port


class RedisUnavailable(RuntimeError):
    """Why no Redis server could be started (shown as the skip reason)."""


class RedisServer:
    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RedisUnavailable("Redis is not installed (apt-get install redis-server); "
                                   "`make test` installs it when run as root")
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="support-redis-")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self.dir],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def wait_ready(self, timeout: float = 10) -> str:
        import redis

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RedisUnavailable(f"redis-server exited with code {self.process.returncode}")
            try:
                redis.Redis.from_url(self.url, socket_timeout=1).ping()
                return self.url
            except redis.RedisError:
                time.sleep(0.05)
        raise RedisUnavailable("redis-server did not answer within 10 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
