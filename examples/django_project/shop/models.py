"""An order."""

from __future__ import annotations

from django.db import models


class Order(models.Model):
    """An order; ``shipped`` is set by the ``ship_order`` job."""

    item = models.CharField(max_length=100)
    shipped = models.BooleanField(default=False)
