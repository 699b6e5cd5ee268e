"""A hot standby of a :class:`~tests.faults.private_server.PrivateServer`, promoted at will.

``pg_basebackup -R`` copies the primary's data directory into a new one (as
the ``postgres`` system user) and writes ``standby.signal`` with the
``primary_conninfo`` to stream from it; the copy gets a port of its own and
starts as a read-only hot standby. :meth:`StandbyServer.promote` turns it
into a writable primary (``pg_ctl promote``), as a fail-over does.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import psycopg

from tests.faults.private_server import _USER, PrivateServer, _free_port

__all__ = ["StandbyServer"]


class StandbyServer(PrivateServer):
    """A streaming standby of ``primary``; ``close()`` deletes it.

    :param primary: the running private server to copy and follow.
    """

    def __init__(self, primary: PrivateServer) -> None:  # no initdb: a base backup
        self.bindir = primary.bindir
        self.dir = Path(tempfile.mkdtemp(prefix="goodjob-standby-pg-"))
        shutil.chown(self.dir, _USER)
        self.data = self.dir / "data"
        self.port = _free_port()
        self._run(
            "pg_basebackup",
            *("-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres"),
            *("-D", str(self.data), "-R", "-X", "stream", "--no-sync"),
        )
        with open(self.data / "postgresql.auto.conf", "a") as out:
            out.write(f"port = {self.port}\nunix_socket_directories = '{self.dir}'\n")
        self.start()

    def in_recovery(self) -> bool:
        """True while the server is a standby."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            row = conn.execute("select pg_is_in_recovery()").fetchone()
        return bool(row and row[0])

    def wait_replayed(self, primary_url: str, timeout: float = 60) -> None:
        """Wait until this standby has replayed everything the primary has written."""
        with psycopg.connect(primary_url, autocommit=True) as conn:
            row = conn.execute("select pg_current_wal_lsn()::text").fetchone()
        assert row is not None
        target = row[0]
        deadline = time.monotonic() + timeout
        with psycopg.connect(self.url, autocommit=True) as conn:
            while True:
                done = conn.execute(
                    "select pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,)
                ).fetchone()
                if done and done[0]:
                    return
                if time.monotonic() > deadline:
                    raise AssertionError(f"standby did not replay up to {target} in {timeout} s")
                time.sleep(0.05)

    def promote(self) -> None:
        """``pg_ctl promote``: end recovery; the server accepts writes from now on."""
        self._run("pg_ctl", "-D", str(self.data), "-w", "-t", "60", "promote")
