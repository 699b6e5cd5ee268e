"""goodjob-pg in one file: a task, transactional enqueue, and a worker in this process.

Run it with a database (the schema is installed if missing)::

    GOODJOB_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/mydb python examples/plain_script.py
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import psycopg

from goodjob_pg import App, current_job
from goodjob_pg.migrations import apply_migrations

DATABASE_URL = os.environ.get(
    "GOODJOB_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)

app = App(DATABASE_URL)
done = threading.Event()


@dataclass
class Invoice:
    number: str
    total: Decimal
    issued: datetime


@app.task(name="example.send_invoice", queue="mail", max_attempts=3)
def send_invoice(invoice: Invoice, to: str) -> None:
    """Pretend to send an invoice; the arguments arrive with their Python types."""
    job = current_job()
    print(f"sent invoice {invoice.number} ({invoice.total}) to {to}, attempt {job.attempt}")
    done.set()


def main() -> None:
    apply_migrations(DATABASE_URL)
    invoice = Invoice("2026-0042", Decimal("99.90"), datetime.now(UTC))
    with psycopg.connect(DATABASE_URL) as conn:
        send_invoice.options(connection=conn).enqueue(invoice, to="nobody@example.com")
        conn.rollback()  # the order failed: its job is gone with it
        send_invoice.options(connection=conn).enqueue(invoice, to="ada@example.com")
        conn.commit()  # the worker hears about it now
    app.start()  # a worker on background threads of this process
    try:
        if not done.wait(30):
            raise SystemExit("the job did not run within 30 s")
    finally:
        app.close()


if __name__ == "__main__":
    main()
