"""Benchmark of the sweep machinery (``refmem bench sweep``).

Reports

* the **overhead per run** of ``refmem sweep`` on the local process pool: the wall time of
  whole sweeps (planning, worker start, submission, logging, results, summary) minus the
  time spent inside the experiments' ``main``, measured with the null experiment
  (:mod:`refmem.sweep.null`) for 2 and ``n`` runs, split into a fixed cost per sweep and
  a marginal cost per run (target < 2 s per run);
* the **speed-up of 2 local workers over 1** on ``tiny`` runs of a real experiment
  (default ``consolidation``), each setting in a fresh folder, every worker with one BLAS
  thread (so the figure is the pool's own scaling), and the overhead per run of each:
  the workers' time not spent inside the runs, ``(workers * wall - inside) / runs``.

The machine's load average is recorded next to the figures: on a loaded machine the
speed-up is smaller than on idle cores.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import tempfile
import time
from typing import List, Optional

from refmem._utils import load_json, save_json
from refmem.benchmarks._common import machine_info

DESCRIPTION = "sweep machinery: overhead per run and speed-up of 2 local workers over 1 on tiny runs"

NULL_REGISTRY = {"null": "refmem.sweep.null"}


def _sweep(argv: List[str], out: str, registry=None, workers: int = 1) -> dict:
    """Wall time of one ``refmem sweep`` on ``workers`` workers and the seconds spent inside
    the experiments; the overhead per run is the workers' time not spent inside them,
    ``(workers * wall - inside) / runs``."""
    from refmem.sweep.cli import main

    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        rc = main(argv + ["--out", out, "--quiet"], registry=registry)
    wall = time.perf_counter() - t0
    runs = load_json(os.path.join(out, "summary.json"))["runs"]
    if rc != 0 or any(r["status"] != "done" for r in runs):
        raise RuntimeError(f"benchmark sweep {' '.join(argv)} failed: see {out}")
    inner = sum(float(r["seconds"]) for r in runs)
    return {"wall_s": wall, "inside_s": inner, "runs": len(runs),
            "overhead_per_run_s": (workers * wall - inner) / len(runs)}


def run(n_null: int = 10, tiny_seeds: int = 4, experiment: str = "consolidation") -> dict:
    """Measure the sweep machinery; returns a JSON-ready dict (see the module docstring)."""
    res = {"load_average_before": os.getloadavg(), "null": {}, "tiny": {"experiment": experiment}}
    with tempfile.TemporaryDirectory() as tmp:
        _sweep(["null", "--seeds", "0-1", "--workers", "1"], os.path.join(tmp, "warmup"), NULL_REGISTRY)
        for n in (2, n_null):
            res["null"][f"n{n}"] = _sweep(["null", "--seeds", f"0-{n - 1}", "--workers", "1"],
                                          os.path.join(tmp, f"null{n}"), NULL_REGISTRY)
        a, b = res["null"]["n2"], res["null"][f"n{n_null}"]
        marginal = ((b["wall_s"] - b["inside_s"]) - (a["wall_s"] - a["inside_s"])) / (n_null - 2)
        res["null"].update(marginal_per_run_s=marginal, fixed_per_sweep_s=(a["wall_s"] - a["inside_s"]) - 2 * marginal)
        for w in (1, 2):
            res["tiny"][f"workers{w}"] = _sweep([experiment, "--config", "tiny", "--seeds", f"0-{tiny_seeds - 1}",
                                                 "--workers", str(w), "--threads", "1"],
                                                os.path.join(tmp, f"tiny{w}"), workers=w)
            res["tiny"][f"workers{w}"]["busy_fraction"] = (res["tiny"][f"workers{w}"]["inside_s"]
                                                           / (w * res["tiny"][f"workers{w}"]["wall_s"]))
        res["tiny"]["speedup_2_over_1"] = res["tiny"]["workers1"]["wall_s"] / res["tiny"]["workers2"]["wall_s"]
    res["load_average_after"] = os.getloadavg()
    res["machine"] = machine_info()
    return res


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="refmem bench sweep", description=DESCRIPTION)
    p.add_argument("--n-null", type=int, default=10, help="null runs of the larger overhead sweep (default 10)")
    p.add_argument("--tiny-seeds", type=int, default=4, help="tiny runs per speed-up sweep (default 4)")
    p.add_argument("--experiment", default="consolidation", help="experiment of the speed-up sweeps")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    a = p.parse_args(argv)
    if a.n_null < 3 or a.tiny_seeds < 2:
        p.error("--n-null must be >= 3 and --tiny-seeds >= 2")
    res = run(a.n_null, a.tiny_seeds, a.experiment)
    nl, tn = res["null"], res["tiny"]
    big = nl[f"n{a.n_null}"]
    print(f"sweep machinery on {res['machine']['cores']} cores (load average before "
          f"{res['load_average_before'][0]:.2f}, after {res['load_average_after'][0]:.2f})")
    print(f"  null experiment, {a.n_null} runs, 1 worker: {big['wall_s']:.2f} s wall, {big['inside_s']:.2f} s in the "
          f"runs -> overhead {big['overhead_per_run_s']:.3f} s per run (target < 2 s)")
    print(f"  split: {nl['fixed_per_sweep_s']:.2f} s per sweep (planning, worker start, summary) + "
          f"{nl['marginal_per_run_s']:.3f} s per run")
    for w in (1, 2):
        t = tn[f"workers{w}"]
        print(f"  {a.experiment} tiny x {a.tiny_seeds} seeds, {w} worker(s) x 1 BLAS thread: {t['wall_s']:.1f} s wall, "
              f"{t['inside_s']:.1f} s in the runs; workers busy {t['busy_fraction']:.0%} of the time"
              + f", overhead {t['overhead_per_run_s']:.2f} worker-s per run")
    print(f"  speed-up of 2 workers over 1: {tn['speedup_2_over_1']:.2f}x")
    if a.json:
        save_json(a.json, res)
    return 0
