"""What every experiment shares: command-line arguments and the versions recorded in results.

* :func:`add_arguments` / :func:`resolve_config`: the flags every ``refmem run NAME``
  has (``--config --seed --out --set --quiet``, optionally ``--vae`` and ``--resume``)
  and the config they select.
* :func:`check_positive_ints`: the config check every experiment needs.
* :func:`format_timings`: a run's timings as one line of a report.
* :func:`versions`: Python, NumPy, SciPy, refmem and the BLAS thread count, for
  ``results.json``.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import platform
from typing import Any, Dict, Mapping, Tuple

import numpy as np

from refmem.config import apply_overrides

__all__ = ["add_arguments", "resolve_config", "check_positive_ints", "format_timings", "versions"]


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


def check_positive_ints(cfg: Any, names) -> None:
    """Raise ``ValueError`` naming the first field of ``names`` that is not a positive int."""
    for name in names:
        v = getattr(cfg, name)
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")


def format_timings(timings: Mapping[str, float]) -> str:
    """``"render 8 s, total 67 s, cpu 13 s"`` from ``{"render": 8.2, "total_s": 67.0, "cpu_s": 13.1}``.

    >>> format_timings({"render": 8.2, "total_s": 67.0})
    'render 8 s, total 67 s'
    """
    return ", ".join(f"{k[:-2] if k.endswith('_s') else k} {v:.0f} s" for k, v in timings.items())


def versions() -> Dict[str, object]:
    """Versions of Python, NumPy, SciPy and refmem, and the BLAS thread setting."""
    import scipy

    from refmem import __version__

    return {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
            "refmem": __version__, "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS")
            or os.environ.get("OMP_NUM_THREADS") or "default"}
