"""On-disk cache of rendered datasets (``.npz``, written atomically, verified on load).

Files live under ``$REFMEM_CACHE_DIR`` (default ``~/.cache/refmem``). Each file stores
its key arrays next to the data and a SHA-256 checksum of the data; :func:`load_checked`
returns ``None`` for a missing, unreadable, truncated or mismatching file, and the caller
then regenerates it.
"""
from __future__ import annotations

import hashlib
import os
from typing import Dict, Optional

import numpy as np

from refmem._errors import one_line, warn
from refmem._utils import load_npz, remove_temp_files, save_npz

__all__ = ["cache_dir", "digest", "load_checked", "store"]

ENV_VAR = "REFMEM_CACHE_DIR"


def cache_dir(sub: str = "") -> str:
    """The user cache folder ``$REFMEM_CACHE_DIR`` or ``~/.cache/refmem`` (plus ``sub``)."""
    root = os.environ.get(ENV_VAR) or os.path.join(os.path.expanduser("~"), ".cache", "refmem")
    return os.path.join(root, sub) if sub else root


def digest(*arrays: np.ndarray) -> str:
    """SHA-256 hex digest of arrays' dtypes, shapes and little-endian bytes."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        a = a.astype(a.dtype.newbyteorder("<"), copy=False)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def load_checked(path: str, expect: Dict[str, np.ndarray], data_key: str) -> Optional[dict]:
    """Load a cache file if it is intact and matches ``expect``; else ``None``.

    Parameters
    ----------
    path : str
    expect : dict of str -> ndarray
        Key arrays that must be stored in the file and equal (dtype, shape, values).
    data_key : str
        The array whose checksum (stored as ``"checksum"``) is verified.
    """
    if not os.path.exists(path):
        return None
    try:
        d = load_npz(path)
    except Exception:  # truncated zip, bad header, not an npz: treat as corrupt
        return None
    if data_key not in d or "checksum" not in d:
        return None
    for k, v in expect.items():
        v = np.asarray(v)
        if k not in d or d[k].dtype != v.dtype or d[k].shape != v.shape or not np.array_equal(d[k], v):
            return None
    if str(d["checksum"]) != digest(d[data_key]):
        return None
    return d


def store(path: str, arrays: Dict[str, np.ndarray], data_key: str) -> bool:
    """Write ``arrays`` plus the checksum of ``arrays[data_key]`` atomically (compressed).

    A cache that cannot be written (read-only or full disk, ``$REFMEM_CACHE_DIR`` a
    file) is skipped with a warning: the data is regenerated next time. Temporary files
    of killed writes older than an hour are removed from the folder. Returns whether
    the file was written.
    """
    out = dict(arrays)
    out["checksum"] = np.array(digest(arrays[data_key]))
    try:
        remove_temp_files(os.path.dirname(path), min_age=3600.0, recursive=False)
        save_npz(path, out, compressed=True)
    except OSError as exc:
        warn(f"cannot write to the cache ({one_line(exc)}); continuing without it "
             f"(set {ENV_VAR} to a writable folder to keep the rendered data)")
        return False
    return True
