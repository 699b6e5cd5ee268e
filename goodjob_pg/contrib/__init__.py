"""Integrations with frameworks; each submodule imports its framework only when used."""
