"""A real IMAP server for tests: Dovecot (Debian's dovecot-imapd) with a throwaway configuration
and mailbox, on a free loopback port, started and stopped by the test run.

IMAPS with a self-signed certificate made here (trusted through MAIL_IN_IMAP_CA_FILE); one user
with a static password; mail stored as Maildir in a temporary directory."""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.pgserver import free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER, PASSWORD = "helpdesk", "imap-test-password"


def available() -> bool:
    return Path(DOVECOT).exists()


class DovecotServer:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="helpdesk-dovecot-"))
        self.dir.chmod(0o755)
        self.port = free_port()  # IMAPS
        self.starttls_port = free_port()  # IMAP, TLS by STARTTLS before login
        self.process: subprocess.Popen | None = None
        root = os.getuid() == 0
        # As root, Dovecot's own users run it and mail belongs to nobody; otherwise all is ours.
        self.mail_user = pwd.getpwnam("nobody") if root else pwd.getpwuid(os.getuid())
        self.login_user = "dovenull" if root else self.mail_user.pw_name
        self.internal_user = "dovecot" if root else self.mail_user.pw_name

    def start(self) -> "DovecotServer":
        self._certificate()
        mail = self.dir / "mail"
        mail.mkdir()
        os.chown(mail, self.mail_user.pw_uid, self.mail_user.pw_gid)
        config = self.dir / "dovecot.conf"
        config.write_text(self._config())
        self.process = subprocess.Popen(
            [DOVECOT, "-c", str(config), "-F"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot exited: {self.process.stderr.read().decode()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("dovecot did not start listening")

    def _certificate(self) -> None:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", str(self.dir / "key.pem"),
             "-out", str(self.dir / "cert.pem")],
            check=True, capture_output=True,
        )  # fmt: skip

    @property
    def ca_file(self) -> str:
        return str(self.dir / "cert.pem")

    def _config(self) -> str:
        uid, gid = self.mail_user.pw_uid, self.mail_user.pw_gid
        return f"""
base_dir = {self.dir}/run
state_dir = {self.dir}/state
log_path = {self.dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{self.dir}/cert.pem
ssl_key = <{self.dir}/key.pem
auth_mechanisms = plain
default_login_user = {self.login_user}
default_internal_user = {self.internal_user}
first_valid_uid = {min(uid, 100)}
first_valid_gid = {min(gid, 100)}
mail_location = maildir:{self.dir}/mail/%u
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={self.dir}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.starttls_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""

    def config(self) -> dict:
        """The MAIL_IN_IMAP_* keys that point the poller at this server."""
        return {
            "MAIL_IN_IMAP_HOST": "127.0.0.1", "MAIL_IN_IMAP_PORT": self.port, "MAIL_IN_IMAP_SECURITY": "ssl",
            "MAIL_IN_IMAP_USER": USER, "MAIL_IN_IMAP_PASSWORD": PASSWORD, "MAIL_IN_IMAP_FOLDER": "INBOX",
            "MAIL_IN_IMAP_DONE_FOLDER": "", "MAIL_IN_IMAP_POLL_SECONDS": 1,
            "MAIL_IN_IMAP_CA_FILE": self.ca_file,
        }  # fmt: skip

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
