"""Shared benchmark helpers: machine description and reference matmul throughput."""
from __future__ import annotations

import os
import platform
import time
from typing import Callable, Dict

import numpy as np

__all__ = ["machine_info", "matmul_gflops", "best_time"]


def machine_info() -> Dict[str, object]:
    """CPU model, core count, Python/NumPy/SciPy versions and the BLAS in use."""
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import scipy

    blas = "unknown"
    try:
        cfg = np.show_config(mode="dicts")  # numpy >= 1.25
        b = cfg.get("Build Dependencies", {}).get("blas", {})
        blas = f"{b.get('name', '?')} {b.get('version', '')}".strip()
    except Exception:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__, "scipy": scipy.__version__, "blas": blas,
            "platform": platform.platform()}


def best_time(fn: Callable[[], object], repeat: int = 3) -> float:
    """Best wall time of ``repeat`` calls of ``fn`` (after one warm-up call)."""
    fn()
    best = float("inf")
    for _ in range(max(1, repeat)):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def matmul_gflops(n: int = 2048, dtype=np.float32, repeat: int = 3) -> float:
    """Achieved GFLOP/s of one ``(n, n) @ (n, n)`` product (2 n^3 FLOP) in ``dtype``."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    out = np.empty((n, n), dtype)
    t = best_time(lambda: np.matmul(a, b, out=out), repeat=repeat)
    return 2.0 * n ** 3 / t / 1e9
