"""A minimal Django app for the Django integration tests; its tasks module is autodiscovered."""
