"""The Django AppConfig: configures the App from settings when Django starts."""

from __future__ import annotations

from django.apps import AppConfig

from .settings import configure, get_app


class GoodjobConfig(AppConfig):
    """``goodjob_pg.contrib.django``: label ``goodjob_pg``."""

    name = "goodjob_pg.contrib.django"
    label = "goodjob_pg"
    verbose_name = "goodjob-pg"

    def ready(self) -> None:
        """Point the App at the jobs database and Django's connection."""
        configure(get_app())
