"""``manage.py goodjob_worker``: run a goodjob-pg worker with Django's settings."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.module_loading import autodiscover_modules

from goodjob_pg.contrib.django.settings import get_app, goodjob_settings
from goodjob_pg.worker import Worker, WorkerConfig


class Command(BaseCommand):
    """Run a worker for the configured App (options as ``goodjob-pg run``)."""

    help = (
        "Run a goodjob-pg worker. Tasks (goodjob-pg's and Django's) are found in each"
        ' installed app\'s tasks module (GOODJOB["TASK_MODULES"], default ["tasks"]).'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """The worker options of ``goodjob-pg run``; defaults from ``GOODJOB["WORKER"]``."""
        defaults = WorkerConfig(**goodjob_settings().get("WORKER", {}))
        parser.add_argument("--queues", default=defaults.queues)
        parser.add_argument("--max-threads", type=int, default=defaults.max_threads)
        parser.add_argument("--poll-interval", type=float, default=defaults.poll_interval)
        parser.add_argument("--shutdown-timeout", type=float, default=defaults.shutdown_timeout)
        parser.add_argument("--idle-timeout", type=float, default=defaults.idle_timeout)
        parser.add_argument(
            "--disable-listen-notify",
            action="store_false",
            dest="listen_notify",
            default=defaults.listen_notify,
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Import the task modules, then run until signalled (or idle for --idle-timeout)."""
        modules = list(goodjob_settings().get("TASK_MODULES", ["tasks"]))
        for module in modules:
            autodiscover_modules(module)
        app = get_app()
        try:  # Django's Tasks framework (Django 6, or the django-tasks backport)
            from goodjob_pg.contrib.django.tasks_backend import register_django_tasks
        except ImportError:
            pass
        else:
            register_django_tasks(app, modules)
        config = WorkerConfig(
            queues=options["queues"],
            max_threads=options["max_threads"],
            poll_interval=options["poll_interval"],
            shutdown_timeout=options["shutdown_timeout"],
            idle_timeout=options["idle_timeout"],
            listen_notify=options["listen_notify"],
        )
        code = Worker(app, config).run()
        if code:
            raise SystemExit(code)
