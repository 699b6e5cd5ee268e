"""``manage.py place_order ITEM [--fail]``: an order and its job in one atomic block."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from shop.models import Order
from shop.tasks import ship_order


class Command(BaseCommand):
    help = "Place an order; --fail rolls it back, and its job with it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("item")
        parser.add_argument("--fail", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with transaction.atomic():
                order = Order.objects.create(item=options["item"])
                ship_order.enqueue(order.pk)  # on Django's connection, in this block
                if options["fail"]:
                    raise CommandError(f"order {order.pk} failed; nothing was saved")
        except CommandError as exc:
            self.stderr.write(str(exc))
            return
        self.stdout.write(f"order {order.pk} placed")
