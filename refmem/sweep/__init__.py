"""Replication across seeds: many experiment runs on a process pool or a Dask cluster, and their statistics.

``refmem sweep`` (:mod:`refmem.sweep.cli`) expands experiments x presets x seeds x
overrides into runs (:mod:`.plan`), runs each with the experiment's own command line in a
worker of a :class:`concurrent.futures.Executor` (:mod:`.execute`: a local process pool,
or Dask's distributed scheduler with the optional ``dask`` extra), and summarises every
criterion across seeds: pass rate, mean, SD and 95% confidence interval, per-epoch curves
(:mod:`.aggregate`, :mod:`.report`). See docs/sweep.md.
"""
from refmem.sweep.aggregate import aggregate, mean_ci
from refmem.sweep.plan import Run, SweepError, parse_seeds, plan

__all__ = ["plan", "parse_seeds", "Run", "SweepError", "aggregate", "mean_ci"]
