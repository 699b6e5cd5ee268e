"""The fault suite: real ``goodjob-pg run`` processes, real faults, exact accounting.

``python -m tests.faults`` (``make faults``) runs every scenario at full size
and prints a report; ``tests/integration/test_faults.py`` runs a reduced size
of the same scenarios inside ``make test``. See :mod:`tests.faults.scenarios`.
"""
