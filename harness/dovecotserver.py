"""A throw-away IMAP server from Debian's `dovecot-imapd` package, on a free port of 127.0.0.1, with one
mailbox (user and password below) in a temporary folder: the support mailbox of the e-mail tests."""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from harness.stack import free_port

USER = "support@example.com"
PASSWORD = "mailbox-password"


class DovecotUnavailable(RuntimeError):
    """Why no IMAP server could be started (shown as the skip reason)."""


def _binary() -> str | None:
    return shutil.which("dovecot") or next((p for p in ("/usr/sbin/dovecot",) if Path(p).is_file()), None)


class DovecotServer:
    def __init__(self) -> None:
        binary = _binary()
        if binary is None:
            raise DovecotUnavailable("Dovecot is not installed (apt-get install dovecot-imapd); "
                                     "`make test` installs it when run as root")
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="support-imap-"))
        self.dir.chmod(0o755)  # Dovecot's own processes read its files (a throw-away password only)
        # Mail is kept under the account that runs the tests (Dovecot's own `dovecot` user when that is root).
        owner = pwd.getpwnam("dovecot") if os.getuid() == 0 else pwd.getpwuid(os.getuid())
        (self.dir / "mail").mkdir()
        os.chown(self.dir / "mail", owner.pw_uid, owner.pw_gid)
        (self.dir / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n", encoding="utf-8")
        login_user = "dovenull" if os.getuid() == 0 else owner.pw_name
        internal_user = "dovecot" if os.getuid() == 0 else owner.pw_name
        (self.dir / "dovecot.conf").write_text(f"""
base_dir = {self.dir}/run
state_dir = {self.dir}/state
log_path = {self.dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
default_login_user = {login_user}
default_internal_user = {internal_user}
mail_location = maildir:{self.dir}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.dir}/users
}}
userdb {{
  driver = static
  args = uid={owner.pw_uid} gid={owner.pw_gid}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
""", encoding="utf-8")
        self.process = subprocess.Popen([binary, "-F", "-c", str(self.dir / "dovecot.conf")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)

    @property
    def url(self) -> str:
        return f"imap://{USER.replace('@', '%40')}:{PASSWORD}@127.0.0.1:{self.port}"

    def client(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        client.login(USER, PASSWORD)
        return client

    def wait_ready(self, timeout: float = 15) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = self.dir / "dovecot.log"
                raise DovecotUnavailable(f"dovecot exited with code {self.process.returncode}: "
                                         f"{log.read_text()[-500:] if log.is_file() else ''}")
            try:
                self.client().logout()
                return self.url
            except (OSError, imaplib.IMAP4.error):
                time.sleep(0.1)
        raise DovecotUnavailable(f"dovecot did not answer within {timeout:.0f} s")

    def deliver(self, raw: bytes, folder: str = "INBOX") -> None:
        """A message arrives in the mailbox (as an MTA would put it there)."""
        client = self.client()
        try:
            status, detail = client.append(folder, None, None, raw)
            assert status == "OK", detail
        finally:
            client.logout()

    def count(self, folder: str) -> int:
        client = self.client()
        try:
            status, data = client.select(folder, readonly=True)
            return int(data[0]) if status == "OK" else 0
        finally:
            client.logout()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
