"""Benchmark: one modern-Hopfield retrieval iteration at BLAS speed (``refmem bench hopfield``).

One synchronous update of Q float32 queries against N stored d-dim float32 patterns,
``xi_new = softmax(beta_eff xi X^T) X`` (:meth:`refmem.hippocampus.ModernHopfield.update`),
costs two GEMMs, 4 Q N d FLOP. Reported next to the float32 matmul throughput measured
in the same run (:func:`refmem.benchmarks._common.matmul_gflops`), with the peak extra
memory of the update (tracemalloc: outputs + one score block + the small per-query info
and per-chunk vectors; the patterns and queries exist before; no (chunk, d) work rows)
and the speed-up over a per-query float64 loop like the paper's code (two GEMVs and a
SciPy softmax per query), timed on a subset of queries and extrapolated per query.

Default size is the paper's replay, N = Q = 10,000 and d = 12,288 (tens of seconds per
iteration on 2 cores); ``--quick`` runs N = Q = 2,000, d = 4,096.
"""
from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from typing import List, Optional

import numpy as np

from refmem._utils import save_json
from refmem.benchmarks._common import best_time, machine_info, matmul_gflops

__all__ = ["DESCRIPTION", "main", "run"]

DESCRIPTION = ("modern Hopfield: one batched retrieval iteration (GFLOP/s vs matmul, memory, "
               "speed-up over a per-query loop)")

BETA = 20.0  # the paper's replay setting (normalised: beta_eff = 20 / sqrt(d))


def _uniform32(rng: np.random.Generator, shape) -> np.ndarray:
    a = np.empty(shape, np.float32)
    rng.random(dtype=np.float32, out=a)          # no float64 temporary at paper scale
    a *= 2.0
    a -= 1.0                                     # U(-1, 1)
    return a


def _per_query_loop(X64: np.ndarray, queries: np.ndarray, beta_eff: float) -> np.ndarray:
    """The paper's per-query float64 update: two GEMVs and a SciPy softmax per query."""
    from scipy.special import softmax

    out = np.empty(queries.shape, np.float64)
    for q, xi in enumerate(queries.astype(np.float64)):
        p = softmax(beta_eff * (X64 @ xi))       # softmax(beta_eff X xi)
        out[q] = p @ X64                         # X p
    return out


def run(n_patterns: int, n_queries: int, dim: int, chunk_size: Optional[int] = None,
        loop_queries: int = 20, repeat: int = 1, seed: int = 0, verbose: bool = True) -> dict:
    """Run the benchmark and return its figures as a dict (see module docstring)."""
    from refmem.hippocampus import ModernHopfield
    from refmem.hippocampus._kernels import auto_chunk_size

    def say(msg):
        if verbose:
            print(msg, flush=True)

    rng = np.random.default_rng(seed)
    say(f"hopfield bench: N={n_patterns} Q={n_queries} d={dim} chunk={chunk_size or 'auto'}")
    ref = matmul_gflops()
    say(f"  float32 matmul (2048^3): {ref:.1f} GFLOP/s")
    X = _uniform32(rng, (n_patterns, dim))
    Q = _uniform32(rng, (n_queries, dim))
    net = ModernHopfield(BETA, normalize=True).store(X, copy=False)
    chunk = chunk_size if chunk_size is not None else auto_chunk_size(n_queries, n_patterns, 4)

    # memory: extra bytes allocated by one update (tracemalloc sees NumPy buffers)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    out = net.update(Q, chunk_size=chunk)
    peak_extra = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    rss_delta = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) * 1024
    item = 4
    # outputs + one score block + per-query info (n_iter, converged, winner, max_weight)
    # + a few per-chunk (C,) vectors of the softmax (row indices, argmax, max, sums)
    bound = ((n_queries * dim + chunk * n_patterns) * item + n_queries * (8 + 1 + 8 + item)
             + 8 * 8 * chunk)
    del out

    # speed: one batched iteration (first call above was the warm-up)
    t = best_time(lambda: net.update(Q, chunk_size=chunk), repeat=repeat) if repeat > 1 else None
    if t is None:
        t0 = time.perf_counter()
        net.update(Q, chunk_size=chunk)
        t = time.perf_counter() - t0
    ref2 = matmul_gflops()                       # re-measured after: the better of two counts
    say(f"  float32 matmul again: {ref2:.1f} GFLOP/s")
    ref = max(ref, ref2)
    flop = 4.0 * n_queries * n_patterns * dim
    gflops = flop / t / 1e9
    mib = 2.0 ** 20
    say(f"  batched update: {t:.3f} s/iteration, {gflops:.1f} GFLOP/s "
        f"= {100 * gflops / ref:.0f}% of matmul")
    say(f"  peak extra memory {peak_extra / mib:.1f} MiB (bound outputs + score block + "
        f"info: {bound / mib:.1f} MiB); patterns {X.nbytes / mib:.1f} MiB, "
        f"queries {Q.nbytes / mib:.1f} MiB; maxrss delta {rss_delta / mib:.1f} MiB")

    # per-query float64 loop on a subset, extrapolated per query
    k = max(1, min(int(loop_queries), n_queries))
    X64 = X.astype(np.float64)
    _per_query_loop(X64, Q[:1], net.beta_eff)                      # warm-up
    groups = np.array_split(np.arange(k), min(k, 5))
    per_query = float("inf")
    for g in groups:                                               # best group (shared machine)
        t0 = time.perf_counter()
        _per_query_loop(X64, Q[g], net.beta_eff)
        per_query = min(per_query, (time.perf_counter() - t0) / len(g))
    del X64
    loop_total = per_query * n_queries
    speedup = loop_total / t
    say(f"  per-query float64 loop: {1e3 * per_query:.1f} ms/query ({k} timed) -> "
        f"{loop_total:.1f} s for {n_queries} queries; batched speed-up {speedup:.1f}x")
    return {"benchmark": "hopfield", "machine": machine_info(),
            "config": {"n_patterns": n_patterns, "n_queries": n_queries, "dim": dim,
                       "chunk_size": int(chunk), "beta": BETA, "dtype": "float32",
                       "loop_queries": k, "repeat": repeat, "seed": seed},
            "matmul_gflops": ref, "seconds_per_iteration": t, "gflops": gflops,
            "fraction_of_matmul": gflops / ref,
            "peak_extra_bytes": int(peak_extra), "memory_bound_bytes": int(bound),
            "maxrss_delta_bytes": int(rss_delta),
            "per_query_loop_seconds": per_query, "per_query_loop_total_seconds": loop_total,
            "speedup_over_loop": speedup}


def main(argv: Optional[List[str]] = None) -> int:
    """``refmem bench hopfield [--quick] [--n-patterns N] [--n-queries Q] [--dim D] ...``."""
    p = argparse.ArgumentParser(prog="refmem bench hopfield", description=DESCRIPTION)
    p.add_argument("--quick", action="store_true", help="N = Q = 2,000, d = 4,096 (seconds)")
    p.add_argument("--n-patterns", "-N", type=int, default=None,
                   help="stored patterns (default 10,000)")
    p.add_argument("--n-queries", "-Q", type=int, default=None, help="queries (default 10,000)")
    p.add_argument("--dim", "-d", type=int, default=None, help="pattern dimension (default 12,288)")
    p.add_argument("--chunk-size", type=int, default=None,
                   help="queries per chunk (default: 64 MiB score block)")
    p.add_argument("--loop-queries", type=int, default=None,
                   help="queries timed in the per-query loop")
    p.add_argument("--repeat", type=int, default=None, help="timed iterations (best of)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    a = p.parse_args(argv)
    quick = {"N": 2000, "Q": 2000, "d": 4096, "loop": 50, "repeat": 3}
    full = {"N": 10000, "Q": 10000, "d": 12288, "loop": 20, "repeat": 1}
    dflt = quick if a.quick else full
    sizes = [a.n_patterns or dflt["N"], a.n_queries or dflt["Q"], a.dim or dflt["d"]]
    if min(sizes) < 1 or (a.chunk_size is not None and a.chunk_size < 1):
        p.error("sizes and --chunk-size must be >= 1")
    res = run(*sizes, chunk_size=a.chunk_size, loop_queries=a.loop_queries or dflt["loop"],
              repeat=a.repeat or dflt["repeat"], seed=a.seed)
    if a.json:
        save_json(a.json, res)
        print(f"  wrote {a.json}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
