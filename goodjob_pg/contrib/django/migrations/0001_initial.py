"""Install goodjob-pg's SQL schema: applies every SQL migration not yet applied.

The SQL files stay the one source of truth. When a goodjob-pg release adds SQL
migrations it adds a Django migration with the same operation, so
``manage.py migrate`` applies them too; each SQL file is applied once either way.
"""

from __future__ import annotations

from django.db import migrations

from goodjob_pg.contrib.django.operations import ApplySqlMigrations


class Migration(migrations.Migration):
    initial = True
    dependencies: list[tuple[str, str]] = []
    operations = [ApplySqlMigrations()]
