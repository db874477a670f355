"""What every experiment shares: command-line arguments and the versions recorded in results.

* :func:`add_arguments` / :func:`resolve_config`: the flags every ``refmem run NAME``
  has (``--config --seed --out --set --quiet``, optionally ``--vae`` and ``--resume``)
  and the config they select.
* :func:`check_out_dir` / :func:`prepare_out_dir`: ``--out`` (and ``--resume``) checked
  before any work; the run folder created and cleared of temporary files that a killed
  write left behind.
* :func:`check_positive_ints`, :func:`check_at_most`: the config checks every
  experiment needs.
* :func:`format_timings`: a run's timings as one line of a report.
* :func:`versions`: Python, NumPy, SciPy, refmem and the BLAS thread count, for
  ``results.json``.

:class:`~refmem._errors.UsageError` (exit status 2) is raised here for a wrong command
line; see :mod:`refmem._errors`.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import platform
from typing import Any, Dict, Mapping, Tuple

import numpy as np

from refmem._errors import UsageError, warn
from refmem._resume import blas_threads
from refmem._utils import remove_temp_files
from refmem.config import apply_overrides

__all__ = ["Parser", "add_arguments", "resolve_config", "check_out_dir", "prepare_out_dir", "check_positive_ints",
           "check_at_most", "format_timings", "versions", "UsageError"]


class Parser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` whose errors are one line on stderr (exit status 2)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (see {self.prog} --help)\n")


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


def check_out_dir(out: str, resume: bool = False) -> None:
    """Check ``--out`` before any work: not a file; with ``resume``, a folder that holds a run.

    Raises
    ------
    UsageError
        ``out`` is an existing file, or ``resume`` is asked for and ``out`` is missing
        or empty (nothing to resume).
    """
    if os.path.lexists(out) and not os.path.isdir(out):
        raise UsageError(f"--out {out}: is a file, not a folder")
    if resume and (not os.path.isdir(out) or not os.listdir(out)):
        raise UsageError(f"--resume: {out} holds no run to resume ({'empty' if os.path.isdir(out) else 'missing'}); "
                         f"run without --resume to start one")


def prepare_out_dir(out_dir: str) -> str:
    """Create the run folder and remove the temporary files a killed write left in it.

    Only files named as :func:`refmem._utils.atomic_write_bytes` names its temporary
    files are removed (with a warning). Returns ``out_dir``.

    Raises
    ------
    UsageError
        ``out_dir`` is a file.
    OSError
        The folder cannot be created or written (e.g. permission denied).
    """
    check_out_dir(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise PermissionError(13, "Permission denied (cannot write the run's files there)", out_dir)
    removed = remove_temp_files(out_dir)
    if removed:
        warn(f"removed {len(removed)} temporary file(s) left in {out_dir} by an interrupted write")
    return out_dir


def check_at_most(cfg: Any, pairs) -> None:
    """Raise ``ValueError`` for the first ``(field, limit, what)`` with ``cfg.field > limit``.

    >>> import dataclasses
    >>> C = dataclasses.make_dataclass("C", [("k", int)])
    >>> check_at_most(C(k=9), [("k", 5, "n - 1")])
    Traceback (most recent call last):
    ...
    ValueError: k must be at most n - 1 (5), got 9
    """
    for name, limit, what in pairs:
        v = getattr(cfg, name)
        if v is not None and v > limit:
            raise ValueError(f"{name} must be at most {what} ({limit}), got {v!r}")


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
    """Versions of Python, NumPy, SciPy and refmem, the default Shapes3D renderer version
    (:data:`refmem.datasets.shapes3d.RENDERER_VERSION`: the scenes depend on it) and the BLAS
    thread count (:func:`refmem._resume.blas_threads`: float32 results depend on it in the last
    digits)."""
    import scipy

    from refmem import __version__
    from refmem.datasets.shapes3d import RENDERER_VERSION

    return {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
            "refmem": __version__, "shapes3d_renderer": RENDERER_VERSION, "blas_threads": blas_threads()}
