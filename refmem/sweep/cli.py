"""``refmem sweep``: many runs of experiments over seeds and presets, and their statistics.

::

    refmem sweep EXPERIMENT [EXPERIMENT ...] --out DIR [--config quick|paper|tiny[,...]]
                 [--seeds 0-4] [--set [EXPERIMENT:]key=value ...]
                 [--executor processes|dask] [--scheduler ADDRESS] [--workers N] [--threads T]
                 [--dry-run] [--report-only]

Exit status: 0 when every run finished, 1 when a run failed (the others still ran, the
summary is written) or the executor could not start, 2 for bad arguments, 130 when
interrupted (start the same command again to continue).
"""
from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import time
from typing import Dict, List, Mapping, Optional

from refmem._utils import load_json, save_json
from refmem.sweep.plan import SweepError, parse_presets, parse_seeds, plan, run_state

__all__ = ["main", "DESCRIPTION", "build_parser"]

DESCRIPTION = ("run experiments over seeds and presets (local processes or a Dask cluster), "
               "resumably, and summarise each effect across seeds")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``refmem sweep``."""
    p = argparse.ArgumentParser(
        prog="refmem sweep", description=DESCRIPTION,
        epilog="Each run writes what `refmem run` writes into DIR/<experiment>-<preset>-seed<S>; finished runs "
               "are skipped and interrupted ones resumed when the command is started again. See docs/sweep.md.")
    p.add_argument("experiments", nargs="+", metavar="EXPERIMENT", help="experiments (see `refmem list`)")
    p.add_argument("--out", required=True, metavar="DIR", help="sweep folder (runs, summary.md, summary.json)")
    p.add_argument("--config", default="quick", metavar="PRESETS",
                   help="preset, or presets separated by commas (default quick)")
    p.add_argument("--seeds", default="0", help="seeds: N, A-B or a comma list of those (default 0)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="[EXPERIMENT:]KEY=VALUE",
                   help="override a config field of every experiment that has it, or of EXPERIMENT only "
                        "(repeatable)")
    p.add_argument("--executor", choices=("processes", "dask"), default=None,
                   help="local process pool (default) or Dask's distributed scheduler")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="address of a running Dask scheduler, e.g. tcp://host:8786 (implies --executor dask; "
                        "without it dask starts a LocalCluster)")
    p.add_argument("--workers", type=int, default=None,
                   help="local worker processes (default: one per core, at most one per run)")
    p.add_argument("--threads", type=int, default=None,
                   help="BLAS threads per local worker (default: cores // workers, at least 1)")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the scheduler (default 10)")
    p.add_argument("--dry-run", action="store_true", help="print the runs and their state; run nothing")
    p.add_argument("--report-only", action="store_true", help="only rebuild the summary from finished runs")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    return p


def _machine() -> str:
    from refmem.sweep.execute import available_cores

    return f"{platform.node()}, {available_cores()} cores, Python {platform.python_version()}"


def _recorded_seconds(res: Mapping) -> Optional[float]:
    """The wall time a finished run recorded in its ``results.json`` (``timings.total`` or
    ``timings.total_s``), or None."""
    t = res.get("timings")
    if isinstance(t, Mapping):
        for key in ("total", "total_s"):
            v = t.get(key)
            if isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0:
                return float(v)
    return None


def _summarise(runs, outcomes: Mapping[str, Dict], out: str, info: Dict) -> Dict:
    from refmem.sweep.aggregate import aggregate
    from refmem.sweep.plan import finished_results
    from refmem.sweep.report import write_summary

    rows, members = [], []
    for r in runs:
        o = dict(outcomes.get(r.name) or {"name": r.name, "status": "not run", "seconds": None, "log": ""})
        o.update(experiment=r.experiment, preset=r.preset, seed=r.seed, overrides=list(r.overrides),
                 role=r.role, out=r.out)
        res = finished_results(r.out)
        if res is not None and o["status"] in ("done", "skipped") and o.get("total") is None:
            crit = res.get("criteria", res.get("effects")) or []
            o.update(passed=sum(c.get("passed") is True for c in crit), total=len(crit))
        if res is not None and o["status"] == "skipped" and o.get("seconds") is None:
            o["seconds"] = _recorded_seconds(res)  # the time the finished run recorded
        rows.append(o)
        if res is not None and r.role == "requested":
            members.append(({"experiment": r.experiment, "preset": r.preset, "overrides": list(r.overrides),
                             "seed": r.seed}, res))
    return write_summary(out, info, rows, aggregate(members))


def _report_only_inputs(runs, states: Mapping[str, str], out: str, info: Dict) -> tuple:
    """The sweep description and run outcomes of a summary rebuilt from finished runs.

    An earlier ``summary.json`` in ``out`` of the same sweep (experiments, presets, seeds
    and overrides) keeps its description of the sweep (command, executor, start, wall
    time) and each finished run's status and time; the verdicts (``passed``/``total``)
    are always read afresh from the runs' results. A missing, unreadable or other
    sweep's summary is ignored.
    """
    now = {"command": info["command"], "at": time.strftime("%Y-%m-%d %H:%M:%S")}
    try:
        before = load_json(os.path.join(out, "summary.json"))
    except (OSError, ValueError):
        before = {}
    before = before if isinstance(before, dict) else {}
    same = all(before.get(k) == info.get(k) for k in ("experiments", "presets", "seeds", "overrides"))
    if same and isinstance(before.get("command"), str):
        info = {**info, **{k: before[k] for k in ("command", "executor", "started", "wall_s", "machine")
                           if k in before}, "rebuilt": now}
    else:
        info = {**info, "executor": "none (report only)", "wall_s": 0.0}
    runs_before = before.get("runs") if same and isinstance(before.get("runs"), list) else []
    recorded = {o["name"]: o for o in runs_before if isinstance(o, dict) and isinstance(o.get("name"), str)}
    outcomes = {}
    for r in runs:
        o = recorded.get(r.name) if states[r.name] == "finished" else None
        if o is None or o.get("status") not in ("done", "skipped"):
            o = {"name": r.name, "status": "skipped" if states[r.name] == "finished" else "not run",
                 "seconds": None, "log": ""}
        outcomes[r.name] = {k: v for k, v in o.items() if k not in ("passed", "total")}
    return info, outcomes


def main(argv: Optional[List[str]] = None, registry: Optional[Mapping[str, str]] = None) -> int:
    """Entry point of ``refmem sweep``; returns the exit status (see the module docstring).

    ``registry`` (experiment name -> module) defaults to :data:`refmem.cli.EXPERIMENTS`.
    """
    from refmem.sweep.execute import ExecutorError, available_cores, execute, open_executor
    from refmem.sweep.report import group_label, relative_paths

    argv = list(sys.argv[1:] if argv is None else argv)
    p = build_parser()
    a = p.parse_args(argv)

    def fail(msg: str, code: int) -> int:
        print(f"refmem sweep: error: {msg}", file=sys.stderr)
        return code

    if a.scheduler and a.executor == "processes":
        return fail("--scheduler needs --executor dask", 2)
    executor = a.executor or ("dask" if a.scheduler else "processes")
    for flag, v in (("--workers", a.workers), ("--threads", a.threads)):
        if v is not None and v < 1:
            return fail(f"{flag} must be >= 1, got {v}", 2)
    if not a.timeout > 0:
        return fail(f"--timeout must be > 0, got {a.timeout}", 2)
    try:
        runs = plan(a.experiments, parse_presets(a.config), parse_seeds(a.seeds), a.overrides, a.out, registry)
    except SweepError as exc:
        return fail(str(exc), 2)
    out = os.path.abspath(a.out)
    say = (lambda s: None) if a.quiet else (lambda s: print(s, flush=True))
    states = {r.name: run_state(r) for r in runs}
    if a.dry_run:
        for r in runs:
            st = states[r.name]
            act = {"finished": "skip (finished)", "new": "run", "interrupted":
                   "resume" if r.supports_resume else "restart (no --resume)"}[st]
            extra = f"  [VAE from {r.needs}]" if r.needs else ""
            print(f"{r.name:<40} {r.role:<9} {act}{extra}")
        return 0
    cores = available_cores()
    todo = sum(s != "finished" for s in states.values())
    workers = a.workers or max(1, min(cores, todo))
    threads = a.threads or max(1, cores // workers)
    if executor == "processes" and workers * threads > cores:
        say(f"note: {workers} workers x {threads} BLAS threads > {cores} cores")
    info = {"command": "refmem sweep " + " ".join(shlex.quote(x) for x in argv), "machine": _machine(),
            "experiments": list(dict.fromkeys(a.experiments)), "presets": parse_presets(a.config),
            "seeds": parse_seeds(a.seeds), "overrides": list(a.overrides),
            "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    os.makedirs(out, exist_ok=True)
    t0 = time.perf_counter()
    outcomes: Dict[str, Dict] = {}
    if a.report_only:
        info, outcomes = _report_only_inputs(runs, states, out, info)
        _summarise(runs, outcomes, out, info)
        say(f"wrote {os.path.join(out, 'summary.md')}")
        return 0

    def status_file(oc) -> None:
        save_json(os.path.join(out, "sweep.json"),
                  {**info, "outcomes": {k: relative_paths(v, out) for k, v in oc.items()}})

    try:
        with open_executor(executor, workers, threads, a.scheduler, a.timeout) as (ex, desc, n_workers):
            info["executor"] = desc
            n_fin = sum(s == "finished" for s in states.values())
            n_int = sum(s == "interrupted" for s in states.values())
            say(f"sweep: {len(runs)} runs ({n_fin} finished before, {n_int} interrupted, "
                f"{len(runs) - n_fin - n_int} new) on {desc}; output {out}")
            outcomes = execute(runs, ex, workers=n_workers, say=say, on_update=status_file)
    except ExecutorError as exc:
        return fail(str(exc), 1)
    except KeyboardInterrupt:
        print("\nrefmem sweep: interrupted; start the same command again to continue", file=sys.stderr)
        return 130
    info["wall_s"] = time.perf_counter() - t0
    summary = _summarise(runs, outcomes, out, info)
    c = summary["counts"]
    say(f"done in {info['wall_s']:.1f} s: {c['done']} run, {c['skipped']} finished before, {c['failed']} failed; "
        f"wrote {os.path.join(out, 'summary.md')}")
    for g in summary["groups"]:
        for st in ("fragile", "fails"):
            ids = [c["id"] for c in g["criteria"] if c["status"] == st]
            if ids:
                what = "fragile (pass in some seeds only)" if st == "fragile" else "fail in every seed"
                say(f"  {group_label(g)}: {len(ids)} {what}: {', '.join(ids)}")
    return 1 if c["failed"] else 0
