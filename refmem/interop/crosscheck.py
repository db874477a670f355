"""Compare another implementation's outputs with refmem's conformance fixtures.

``crosscheck(FIXTURES, THEIRS)`` (CLI: ``refmem crosscheck FIXTURES THEIRS``) reads every
item of ``FIXTURES/manifest.json``, loads ``THEIRS/<item>.npz`` and compares each output
array listed in the manifest with refmem's: max abs error ``max|a - r|``, max rel error
``max|a - r| / max|r|``, and the verdict ``max|a - r| <= tol * max(1, max|r|)`` with the
item's tolerance (or ``tol`` given here, e.g. 1e-5 for a float32 implementation). A
missing file, a missing array, a shape mismatch or a non-finite value fails.
"""
from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from typing import Iterable, List, Optional

import numpy as np

from refmem._utils import load_npz
from .fixtures import load_manifest

__all__ = ["Row", "crosscheck", "format_table", "summary"]


@dataclass
class Row:
    """One compared array: ``item`` is ``"<item>:<array>"``; ``status`` PASS/FAIL/SKIP."""

    item: str
    abs_err: float
    rel_err: float
    tol: float
    status: str
    note: str = ""


def _compare(name: str, theirs, ours: np.ndarray, tol: float) -> Row:
    theirs = np.asarray(theirs)
    if theirs.shape != ours.shape:
        return Row(name, np.nan, np.nan, tol, "FAIL", f"shape {theirs.shape}, expected {ours.shape}")
    if theirs.dtype.kind not in "fiub":
        return Row(name, np.nan, np.nan, tol, "FAIL", f"dtype {theirs.dtype} is not numeric")
    a, r = theirs.astype(np.float64), ours.astype(np.float64)
    if not np.all(np.isfinite(a)):
        return Row(name, np.nan, np.nan, tol, "FAIL", "non-finite values")
    if a.size == 0:
        return Row(name, 0.0, 0.0, tol, "PASS")
    err = float(np.abs(a - r).max())
    scale = float(np.abs(r).max())
    rel = err / scale if scale > 0 else (0.0 if err == 0 else np.inf)
    ok = err <= tol * max(1.0, scale)
    return Row(name, err, rel, tol, "PASS" if ok else "FAIL")


def crosscheck(fixtures_dir, theirs_dir, tol: Optional[float] = None,
               only: Optional[Iterable[str]] = None, allow_missing: bool = False) -> List[Row]:
    """Compare ``theirs_dir/<item>.npz`` with the fixtures, array by array.

    Parameters
    ----------
    fixtures_dir : str
        Written by :func:`refmem.interop.fixtures.write_fixtures`.
    theirs_dir : str
        The other implementation's outputs, same file names and array names.
    tol : float, optional
        Tolerance for every item (default: each item's own, 1e-10 for most).
    only : iterable of str, optional
        Glob patterns of items to compare (default all).
    allow_missing : bool, default False
        Report items whose file is absent as SKIP instead of FAIL.

    Returns
    -------
    list of Row
    """
    if tol is not None and not (np.isfinite(tol) and tol >= 0):
        raise ValueError(f"tol must be a finite number >= 0, got {tol!r}")
    if not os.path.isdir(theirs_dir):
        raise ValueError(f"{theirs_dir!r} is not a folder")
    manifest = load_manifest(fixtures_dir)
    rows: List[Row] = []
    for entry in manifest["items"]:
        name = entry["name"]
        if only and not any(fnmatch.fnmatch(name, p) for p in only):
            continue
        t = float(entry["tol"] if tol is None else tol)
        path = os.path.join(theirs_dir, entry["file"])
        if not os.path.isfile(path):
            rows.append(Row(name, np.nan, np.nan, t, "SKIP" if allow_missing else "FAIL", "no file"))
            continue
        ours = load_npz(os.path.join(fixtures_dir, entry["file"]))
        try:
            theirs = load_npz(path)
        except Exception as exc:  # a corrupt file is a failure of theirs, not a crash of ours
            rows.append(Row(name, np.nan, np.nan, t, "FAIL", f"unreadable: {exc}"))
            continue
        for key in entry["outputs"]:
            label = f"{name}:{key}"
            if key not in theirs:
                rows.append(Row(label, np.nan, np.nan, t, "FAIL", "array missing"))
            else:
                rows.append(_compare(label, theirs[key], ours[key], t))
    return rows


def summary(rows: List[Row]) -> dict:
    """Counts ``{"PASS": n, "FAIL": n, "SKIP": n}`` and the failed items."""
    out = {s: sum(r.status == s for r in rows) for s in ("PASS", "FAIL", "SKIP")}
    out["failed"] = [r.item for r in rows if r.status == "FAIL"]
    return out


def _num(x: float) -> str:
    return "-" if not np.isfinite(x) else f"{x:.2e}"


def format_table(rows: List[Row], failures_only: bool = False) -> str:
    """Plain-text table: item, max abs error, max rel error, tolerance, result."""
    shown = [r for r in rows if r.status != "PASS"] if failures_only else rows
    width = max([len("item")] + [len(r.item) for r in shown])
    lines = [f"{'item':<{width}}  {'max abs err':>11}  {'max rel err':>11}  {'tol':>8}  result",
             "-" * (width + 45)]
    for r in shown:
        note = f"  ({r.note})" if r.note else ""
        lines.append(f"{r.item:<{width}}  {_num(r.abs_err):>11}  {_num(r.rel_err):>11}  "
                     f"{r.tol:>8.0e}  {r.status}{note}")
    s = summary(rows)
    lines.append(f"{s['PASS']} arrays pass, {s['FAIL']} fail, {s['SKIP']} skipped")
    return "\n".join(lines)
