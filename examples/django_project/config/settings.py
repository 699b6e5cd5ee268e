"""Settings of the example project: one PostgreSQL database from GOODJOB_DATABASE_URL."""

from __future__ import annotations

import os

from psycopg.conninfo import conninfo_to_dict

_db = conninfo_to_dict(
    os.environ.get("GOODJOB_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
)

SECRET_KEY = "example-only"
DEBUG = False
USE_TZ = True
INSTALLED_APPS = ["goodjob_pg.contrib.django", "shop"]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _db.get("dbname", "postgres"),
        "USER": _db.get("user", ""),
        "PASSWORD": _db.get("password", ""),
        "HOST": _db.get("host", ""),
        "PORT": _db.get("port", ""),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The jobs live in the "default" database; the worker runs two threads.
GOODJOB = {"DATABASE": "default", "WORKER": {"queues": "*:2"}}
