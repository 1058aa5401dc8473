"""Live replay: a scenario's arrivals and per-job draws replayed in wall-clock time into a real Redis,
worked by real workers (started here, or already running: Python or Ruby Resque), observed through probe
jobs, and written out as a simulation's results are.

Modules, each with one job:

- :mod:`~resque_sim.live.plan`: the jobs to replay, from the same arrival and draw streams the engine uses;
- :mod:`~resque_sim.live.probe`: the probe job workers run (``resque-impl work --jobs resque_sim.live.probe``),
  with ``probe.rb`` its Ruby twin;
- :mod:`~resque_sim.live.probe_store`: every Redis key and command of a live run (checks, probe records, clean-up);
- :mod:`~resque_sim.live.pools`: the worker processes a live run starts, supervises and stops;
- :mod:`~resque_sim.live.observed`: probe records turned into the simulator's :class:`~resque_sim.records.RunRecord`;
- :mod:`~resque_sim.live.runner`: the run itself (:func:`~resque_sim.live.runner.run_live`);
- :mod:`~resque_sim.live.progress`: its progress bar.

This package imports nothing at import time, because workers import :mod:`resque_sim.live.probe`.
"""

__all__: list[str] = []
