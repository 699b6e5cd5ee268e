"""Django integration: settings, enqueue on Django's connection, migrations, a worker command.

::

    INSTALLED_APPS = [..., "goodjob_pg.contrib.django"]
    GOODJOB = {                        # every key is optional
        "APP": "myproject.jobs:app",   # default: goodjob_pg.contrib.django.app
        "DATABASE": "default",         # the DATABASES alias the jobs live in
    }

    from goodjob_pg.contrib.django import app      # or your own App named in GOODJOB["APP"]

    @app.task
    def send_receipt(order_id: int) -> None: ...

    with transaction.atomic():
        order = Order.objects.create(...)
        send_receipt.enqueue(order.id)   # on Django's connection: commits with the order

``manage.py migrate`` installs the SQL schema (the app's migrations apply the
project's SQL files) and ``manage.py goodjob_worker`` runs a worker. On
start-up (``AppConfig.ready``) the App gets the database of
``GOODJOB["DATABASE"]`` (or ``GOODJOB["DATABASE_URL"]``) and enqueues through
Django's own connection for that alias, unless ``GOODJOB["USE_DJANGO_CONNECTION"]``
is False.
"""

from __future__ import annotations

from ...registry import App

__all__ = ["app"]

# Touches nothing until used. Its database comes from Django's settings (GoodjobConfig.ready),
# not from DATABASE_URL or GOODJOB_DATABASE_URL: "" is "not set yet".
app = App("")
