"""Shared pytest configuration: fixtures live in plugin modules under tests/plugins/."""

pytest_plugins = ["tests.plugins.database", "goodjob_pg.pytest_plugin"]
