"""What every experiment shares: command-line arguments and the versions recorded in results.

* :func:`add_arguments` / :func:`resolve_config`: the flags every ``refmem run NAME``
  has (``--config --seed --out --set --quiet``, optionally ``--vae`` and ``--resume``)
  and the config they select.
* :func:`experiment_main`: ``main(argv)`` of an experiment built from these flags.
* :func:`finish_run`: the end of a run (timings, ``results.json``, ``report.md``).
* :func:`check_positive_ints`: the config check every experiment needs.
* :func:`versions`: Python, NumPy, SciPy, refmem and the BLAS thread count, for
  ``results.json``.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import time
from typing import Any, Callable, Dict, Mapping, Tuple

import numpy as np

from refmem.config import apply_overrides

__all__ = ["add_arguments", "resolve_config", "experiment_main", "finish_run", "check_positive_ints",
           "versions"]


def add_arguments(p: argparse.ArgumentParser, configs: Mapping[str, Any], name: str, *,
                  vae: bool = False, resume: bool = False) -> argparse.ArgumentParser:
    """Add the common flags of ``refmem run NAME`` to ``p`` (returned)."""
    p.add_argument("--config", choices=sorted(configs), default=None,
                   help="preset (default: quick)")
    p.add_argument("--seed", type=int, default=None, help="seed of every random stream (default: the preset's)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help=f"output folder (default runs/{name}-<config>-seed<S>)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config field (repeatable); fields: "
                        + ", ".join(f.name for f in dataclasses.fields(configs["quick"])))
    p.add_argument("--quiet", action="store_true", help="no progress output")
    if vae:
        p.add_argument("--vae", default=None, metavar="FILE",
                       help="a saved refmem VAE (.npz) to use instead of the consolidated one")
    if resume:
        p.add_argument("--resume", action="store_true", help="continue an interrupted run in --out")
    return p


def resolve_config(args: argparse.Namespace, configs: Mapping[str, Any], name: str) -> Tuple[Any, str, str]:
    """``(config, out_dir, preset label)`` selected by parsed arguments.

    Raises
    ------
    ValueError
        An override names an unknown field or has a value of the wrong type.
    """
    preset = args.config or "quick"
    cfg = apply_overrides(configs[preset], args.overrides)
    if args.seed is not None:
        cfg = dataclasses.replace(cfg, seed=int(args.seed))
    out = args.out or os.path.join("runs", f"{name}-{preset}-seed{cfg.seed}")
    return cfg, out, preset if not args.overrides else f"{preset} (modified)"


def experiment_main(argv, name: str, description: str, configs: Mapping[str, Any], run: Callable,
                    resume: bool = False) -> int:
    """``refmem run NAME``: parse the common flags, call ``run(cfg, out, [resume=], quiet=, preset=)``.

    Returns 0 if every criterion passed (``results["passed"]``), 1 if not.
    """
    p = add_arguments(argparse.ArgumentParser(prog=f"refmem run {name}", description=description), configs,
                      name, resume=resume)
    args = p.parse_args(argv)
    try:
        cfg, out, preset = resolve_config(args, configs, name)
    except ValueError as exc:
        p.error(str(exc))
    extra = {"resume": args.resume} if resume else {}
    res = run(cfg, out, quiet=args.quiet, preset=preset, **extra)
    return 0 if res["passed"] else 1


def finish_run(name: str, out_dir: str, res: Dict, timings: Dict[str, float], t_start: float, cpu_start: float,
               write_report: Callable[[str, Dict], None], say: Callable[[str], None]) -> Dict:
    """Close a run: total and CPU seconds into ``res["timings"]``, then ``results.json`` and ``report.md``.

    ``t_start`` and ``cpu_start`` are ``time.perf_counter()`` and ``time.process_time()``
    at the start; with one BLAS thread the CPU time is about the wall time on an idle
    machine. Returns ``res``.
    """
    from refmem._utils import save_json
    from refmem.progress import format_seconds

    timings["total"] = time.perf_counter() - t_start
    timings["cpu"] = time.process_time() - cpu_start
    res["timings"] = timings
    save_json(os.path.join(out_dir, "results.json"), res)
    write_report(os.path.join(out_dir, "report.md"), res)
    rows = res["criteria"]
    say(f"{name}: {sum(r['passed'] is True for r in rows)}/{len(rows)} criteria pass "
        f"[{format_seconds(timings['total'])}]; wrote {os.path.join(out_dir, 'report.md')}")
    return res


def check_positive_ints(cfg: Any, names) -> None:
    """Raise ``ValueError`` naming the first field of ``names`` that is not a positive int."""
    for name in names:
        v = getattr(cfg, name)
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")


def versions() -> Dict[str, object]:
    """Versions of Python, NumPy, SciPy and refmem, and the BLAS thread setting."""
    import scipy

    from refmem import __version__

    return {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
            "refmem": __version__, "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS")
            or os.environ.get("OMP_NUM_THREADS") or "default"}
