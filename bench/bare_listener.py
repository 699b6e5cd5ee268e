"""The pickup-latency floor: a bare LISTEN/claim/finish loop in its own process.

``python -m bench.bare_listener URL FILE`` LISTENs on channel ``bare`` on one
connection and claims on a second (as a goodjob-pg worker does). On each
notification it claims ready ``bare_jobs`` rows (up to 10 per statement,
``FOR UPDATE SKIP LOCKED``) until none is left, writes ``"<seq> <time>"`` for
each claimed job (its ``args[0]``), and marks them finished. SIGTERM stops it.
"""

from __future__ import annotations

import signal
import sys
import time
from types import FrameType

import psycopg

_CLAIM = """
update bare_jobs j set state = 'running', started_at = now()
 where j.id in (select b.id from bare_jobs b where b.state = 'queued'
                 order by b.priority, b.run_at, b.id limit 10 for update skip locked)
returning j.id, (j.args->>0)::int
"""
_FINISH = "update bare_jobs set state = 'succeeded', finished_at = now() where id = any(%s)"

ENQUEUE = (
    "with i as (insert into bare_jobs (task, args)"
    " values ('bench.record', jsonb_build_array(%s::int)) returning 1)"
    " select pg_notify('bare', 'default') from i"
)
"""What the enqueuer runs: insert and notify in one autocommit statement."""

_stop = False


def _on_term(signum: int, frame: FrameType | None) -> None:
    global _stop
    _stop = True


def main(url: str, path: str) -> None:
    """Listen, claim, record, finish until SIGTERM."""
    signal.signal(signal.SIGTERM, _on_term)
    listen = psycopg.connect(url, autocommit=True)
    work = psycopg.connect(url, autocommit=True)
    listen.execute("listen bare")
    with open(path, "a", buffering=1) as out:
        while not _stop:
            for _ in listen.notifies(timeout=0.2, stop_after=1):
                pass
            while True:
                rows = work.execute(_CLAIM).fetchall()
                if not rows:
                    break
                for _, seq in rows:
                    out.write(f"{seq} {time.time()!r}\n")
                work.execute(_FINISH, ([r[0] for r in rows],))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
