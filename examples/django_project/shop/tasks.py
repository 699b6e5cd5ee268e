"""The shop's jobs, registered on the Django integration's App."""

from __future__ import annotations

from goodjob_pg.contrib.django import app

from .models import Order


@app.task(name="shop.ship_order", queue="shipping")
def ship_order(order_id: int) -> None:
    """Mark an order shipped, with the ORM (inside the worker)."""
    Order.objects.filter(pk=order_id).update(shipped=True)
