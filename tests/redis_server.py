"""A real Redis server a test owns (Debian's `redis-server`; `.ci/run` installs it).

It listens on a free loopback port, keeps nothing on disk, and can be paused (a hung
server: every command times out, its data kept), resumed, stopped and started again
on the same port.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from tests.owned_server import free_port

SHARED_URL = "redis://127.0.0.1:6379/0"


def installed() -> bool:
    """Whether a `redis-server` program is on PATH."""
    return shutil.which("redis-server") is not None


def shared_answers() -> bool:
    """Whether the machine's own Redis (127.0.0.1:6379) answers."""
    try:
        return bool(redis.Redis.from_url(SHARED_URL, socket_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


class RedisServer:
    """One `redis-server` process with its files in `root`."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        command = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", str(self.root),
        ]  # fmt: skip
        with (self.root / "redis.log").open("ab") as log:  # the child keeps its own copy
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start: see {self.root / 'redis.log'}")
            time.sleep(0.05)

    def answers(self) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url, socket_timeout=0.5).ping())
        except (redis.RedisError, OSError):
            return False

    def pause(self) -> None:
        """Freeze the server: connections stay open, nothing is answered."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)  # a paused one must see the TERM
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@contextmanager
def for_session(root: Path) -> Iterator[str]:
    """The URL of the machine's Redis where one answers, else of one started in `root`
    (stopped at the end of the block)."""
    if shared_answers():
        yield SHARED_URL
        return
    if not installed():
        raise RuntimeError("no Redis answers and redis-server is not installed")
    server = RedisServer(root)
    try:
        yield server.url
    finally:
        server.stop()
