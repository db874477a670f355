"""Checkpoints that survive a kill: the last two are kept, and a damaged one is replaced
by the one before it.

:func:`save_checkpoint_npz` moves the current checkpoint ``NAME.npz`` to
``NAME.prev.npz`` and writes the new one atomically, recording the BLAS thread count
(:func:`blas_threads`). :func:`load_checkpoint_npz` restores from
``NAME.npz``, or, if that file is missing or damaged, from ``NAME.prev.npz`` with a
warning; when neither can be read it raises one ``ValueError`` naming both. A resumed
run whose BLAS thread count differs from the checkpoint's gets a warning: the last
digits of float32 training depend on it.
"""
from __future__ import annotations

import os
from typing import Callable, Optional, TypeVar

import numpy as np

from refmem._errors import one_line, warn
from refmem._utils import load_npz, save_npz

__all__ = ["blas_threads", "previous_path", "save_checkpoint_npz", "load_checkpoint_npz", "remove_checkpoint_npz"]

T = TypeVar("T")

#: errors a restore function raises for a checkpoint it cannot use
_DAMAGE = (ValueError, KeyError, TypeError, IndexError)


def blas_threads() -> int:
    """Threads the BLAS library (OpenBLAS, MKL or an OpenMP build) runs matrix products on.

    Read from ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS`` or ``OMP_NUM_THREADS`` (the
    first set); without them these libraries use every core (``os.cpu_count()``). The
    last bits of a float32 training run depend on it, so bit-identical resume needs the
    same value.
    """
    for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        text = os.environ.get(var, "").split(",")[0].strip()
        if text.isdigit() and int(text) > 0:
            return int(text)
    return os.cpu_count() or 1


def previous_path(path: str) -> str:
    """The previous checkpoint kept beside ``path``.

    >>> previous_path("run/checkpoint.npz")
    'run/checkpoint.prev.npz'
    """
    base, ext = os.path.splitext(os.fspath(path))
    return f"{base}.prev{ext}"


def save_checkpoint_npz(path: str, arrays: dict) -> None:
    """Write ``arrays`` (+ ``blas_threads``) to ``path``; the file there before becomes the previous one."""
    arrays = dict(arrays, blas_threads=np.int64(blas_threads()))
    if os.path.exists(path):
        os.replace(path, previous_path(path))
    save_npz(path, arrays)


def remove_checkpoint_npz(path: str) -> None:
    """Delete the checkpoint at ``path`` and the previous one (a fresh run)."""
    for p in (path, previous_path(path)):
        if os.path.lexists(p):
            os.remove(p)


def _why(exc: BaseException) -> str:
    return f"no array {exc.args[0]!r}" if isinstance(exc, KeyError) and exc.args else one_line(exc)


def load_checkpoint_npz(path: str, restore: Callable[[dict], T]) -> Optional[T]:
    """``restore(arrays)`` of the newest readable checkpoint at ``path``; None if there is none.

    Parameters
    ----------
    path : str
        The latest checkpoint; the previous one is :func:`previous_path` of it.
    restore : callable(dict) -> T
        Applies a checkpoint's arrays (to a model, an optimiser, ...) and returns what
        the caller needs. It raises ``ValueError``, ``KeyError``, ``TypeError`` or
        ``IndexError`` for arrays it cannot use, and must leave everything fully set from
        the arrays of a later call that succeeds.

    Raises
    ------
    ValueError
        Checkpoint files exist but none can be read or restored (the message names each
        and what is wrong).

    Warns
    -----
    RefmemWarning
        The latest checkpoint is missing or damaged and the previous one was used; or the
        checkpoint was written with another BLAS thread count.
    """
    problems = []
    for p in (path, previous_path(path)):
        if not os.path.exists(p):
            continue
        try:
            arrays = load_npz(p)
            value = restore(arrays)
        except _DAMAGE as exc:
            problems.append(f"{p}: {_why(exc)}")
            continue
        if p != path:
            reason = f"is damaged ({problems[0]})" if problems else "is missing"
            warn(f"the latest checkpoint {reason}; resuming from the previous checkpoint {p}")
        saved = arrays.get("blas_threads")
        if saved is not None and np.ndim(saved) == 0 and int(saved) != blas_threads():
            warn(f"{p} was written with {int(saved)} BLAS threads and this process uses {blas_threads()}: "
                 f"the resumed run can differ from an uninterrupted one in the last digits "
                 f"(set OPENBLAS_NUM_THREADS={int(saved)} for bit-identical results)")
        return value
    if problems:
        raise ValueError("cannot resume, no readable checkpoint: " + "; ".join(problems)
                         + "; run again without --resume (or with a new --out) to start afresh")
    return None
