"""The goodjob-pg benchmark harness (a program, not a test).

``python -m bench`` (``make bench``) measures goodjob-pg against a floor: the
same job lifecycle written as bare SQL on a bare table and driven by
``pgbench``, measured in the same run on the same server. Every figure is
the median of several runs with their min and max; every target is a ratio
to a floor (or, for latency and memory, an absolute bound from DESIGN.md).
``python -m bench.peers`` (``make bench-peers``) runs the enqueue, drain and
latency scenarios on Procrastinate and PgQueuer too.

Modules: :mod:`bench.settings` (sizes, full and quick), :mod:`bench.stats`,
:mod:`bench.database` (fresh databases), :mod:`bench.pgbench`,
:mod:`bench.floor` (the bare-SQL floor), :mod:`bench.worker` (worker
subprocesses), :mod:`bench.scenarios` (one module per scenario),
:mod:`bench.subjects` (goodjob-pg behind the interface peers share),
:mod:`bench.peers`, :mod:`bench.report` (table and JSON).
"""
