"""A private PostgreSQL server for one fault scenario, started and stopped at will.

Tests run as root and Postgres refuses to run as root, so the cluster is
created and run as the ``postgres`` system user (Debian's) with ``initdb``
and ``pg_ctl`` from ``/usr/lib/postgresql/<version>/bin`` (override with
``GOODJOB_PG_BINDIR``), on a free port of 127.0.0.1 with trust auth, in a
temporary directory removed on close.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

__all__ = ["PrivateServer", "available"]

_USER = "postgres"


def _bindir() -> str | None:
    if os.environ.get("GOODJOB_PG_BINDIR"):
        return os.environ["GOODJOB_PG_BINDIR"]
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return str(Path(found[-1]).parent) if found else None


def available() -> bool:
    """True when initdb/pg_ctl and a non-root user to run them exist."""
    if _bindir() is None or shutil.which("runuser") is None:
        return False
    try:
        import pwd

        pwd.getpwnam(_USER)
    except KeyError:
        return False
    return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateServer:
    """``initdb`` a cluster and run it; :meth:`stop` and :meth:`start` it mid-test."""

    def __init__(self) -> None:
        bindir = _bindir()
        assert bindir is not None
        self.bindir = bindir
        self.dir = Path(tempfile.mkdtemp(prefix="goodjob-private-pg-"))
        shutil.chown(self.dir, _USER)
        self.data = self.dir / "data"
        self.port = _free_port()
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")
        conf = (
            f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{self.dir}'\nfsync = off\nmax_connections = 50\n"
        )
        with open(self.data / "postgresql.auto.conf", "a") as out:
            out.write(conf)
        self.start()

    @property
    def url(self) -> str:
        """libpq URL of the ``postgres`` database."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", _USER, "--", f"{self.bindir}/{tool}", *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=self.dir,
        )

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        log = str(self.dir / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        """``pg_ctl stop -m MODE`` (fast: sessions ended; immediate: crash and recover)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def close(self) -> None:
        """Stop the server (if running) and delete the cluster."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)
