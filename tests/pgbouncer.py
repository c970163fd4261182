"""A real PgBouncer a test owns, in transaction pooling mode, in front of the test server.

Debian's `pgbouncer` (1.18 on this project's machines; `.ci/run` installs it). It
listens on a free loopback port, trusts the users it lists (the test server trusts
them too), and reaches the test server over TCP or its Unix socket, whatever database
the client names. PgBouncer refuses to run as root: as root it runs as the embedded
server's system user.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import psycopg

from tests.owned_server import SYSTEM_USER, free_port, give_to_system_user


def installed() -> bool:
    """Whether a `pgbouncer` program is on PATH."""
    return shutil.which("pgbouncer") is not None


class Bouncer:
    """One PgBouncer process in `root`, serving `users` in front of `server` (a
    conninfo of the test server)."""

    def __init__(self, root: Path, server: str, users: list[str], *, pool_size: int = 2) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.port = free_port()
        target = psycopg.conninfo.conninfo_to_dict(server)
        host = str(target.get("host") or "127.0.0.1")
        backend = f"host={host} port={target.get('port') or 5432}"
        (root / "users.txt").write_text("".join(f'"{user}" ""\n' for user in users))
        (root / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"* = {backend}\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {self.port}\n"
            "unix_socket_dir =\n"
            "auth_type = trust\n"
            f"auth_file = {root / 'users.txt'}\n"
            "pool_mode = transaction\n"
            # Few server connections for many clients: every transaction may land on
            # another one, which is what the DAL must not notice.
            f"default_pool_size = {pool_size}\n"
            "max_client_conn = 200\n"
            f"logfile = {root / 'pgbouncer.log'}\n"
            f"pidfile = {root / 'pgbouncer.pid'}\n"
        )
        command = ["pgbouncer", str(root / "pgbouncer.ini")]
        if os.geteuid() == 0:
            give_to_system_user(root)
            command[1:1] = ["-u", SYSTEM_USER]
        self.process = subprocess.Popen(command, stderr=subprocess.PIPE)
        self._wait_listening()

    def url(self, dbname: str, user: str) -> str:
        """A URL reaching database `dbname` as `user` through this PgBouncer."""
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                self.stop()
                raise RuntimeError(f"pgbouncer exited: {err}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("pgbouncer did not listen within 10 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()
