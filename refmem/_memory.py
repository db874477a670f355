"""Process memory: keeping freed arrays for reuse, and the peak resident set size.

A training step allocates and frees tens of megabytes of temporaries (patch matrices,
activations, gradients). With glibc's default policy part of that memory goes back to
the operating system after every step and comes back as fresh pages, each first touch a
page fault; on a virtual machine that was ~10,000 faults, about a fifth of the Shapes3D
VAE's training step (``docs/neocortex.md``, "Speed"). :func:`retain_freed_memory` sets
glibc's thresholds so arrays below ``mmap_bytes`` come from the heap and up to
``keep_bytes`` of freed heap is kept for the next allocation. Larger arrays (the
paper-scale replay sets) are still mapped and unmapped on their own, so the peak resident
memory is unchanged. It is a no-op on other C libraries, and when the environment variable
``REFMEM_KEEP_FREED_MEMORY=0``.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from typing import Optional

__all__ = ["retain_freed_memory", "peak_rss_bytes"]

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc <malloc.h>
_applied = None


def retain_freed_memory(keep_bytes: int = 256 << 20, mmap_bytes: int = 64 << 20) -> bool:
    """Make glibc's malloc keep freed memory for reuse (once per process).

    Parameters
    ----------
    keep_bytes : int
        ``M_TRIM_THRESHOLD``: free memory at the top of the heap kept instead of returned.
    mmap_bytes : int
        ``M_MMAP_THRESHOLD``: allocations at least this large are mapped separately
        (and returned to the system when freed).

    Returns
    -------
    bool
        Whether the thresholds are set (False off glibc or when opted out).
    """
    global _applied
    if _applied is not None:
        return _applied
    _applied = False
    if os.environ.get("REFMEM_KEEP_FREED_MEMORY", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt thresholds)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _applied = bool(mallopt(_M_MMAP_THRESHOLD, int(mmap_bytes))) and bool(mallopt(_M_TRIM_THRESHOLD, int(keep_bytes)))
    return _applied


def peak_rss_bytes() -> Optional[int]:
    """Peak resident set size of this process so far, in bytes (``getrusage`` ``ru_maxrss``);
    None where ``resource`` does not exist (Windows)."""
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)  # bytes on macOS, KiB on Linux
