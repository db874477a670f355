"""Hippocampal encoding and replay (docs/paper-experiments.md, 1.3 and E1).

Memories (images in [0, 1]) are mapped to [-1, 1], flattened and stored in a modern
Hopfield network; replay runs the Hopfield update from uniform-noise cues and the results,
mapped back to [0, 1], are the VAE's training set. The network itself is
:class:`refmem.hippocampus.ModernHopfield`; this module only drives it and summarises
what it replayed.
"""
from __future__ import annotations

import os
from typing import Dict, Optional, Tuple

import numpy as np

from refmem._errors import warn
from refmem._utils import as_rng, check_array, check_float_array, check_int, check_real, load_npz, save_npz
from refmem.progress import Progress

__all__ = ["to_pattern", "from_pattern", "build_hippocampus", "replay_memories", "replay_stats",
           "load_or_replay"]


def to_pattern(images: np.ndarray) -> np.ndarray:
    """Images in [0, 1] to Hopfield patterns in [-1, 1]: ``(N, H, W, C) -> (N, H*W*C)``.

    docs/paper-experiments.md, E1: ``x / 255 * 2 - 1``, flattened.
    """
    images = check_float_array(images, "images", min_size=1)
    if images.ndim < 2:
        raise ValueError(f"images must have shape (N, ...), got {images.shape}")
    x = images.reshape(len(images), -1) * 2
    x -= 1  # (C1) x -> 2x - 1 (in place: one array of the patterns' size)
    return x.astype(images.dtype, copy=False)


def from_pattern(patterns: np.ndarray, image_shape: Tuple[int, int, int], inplace: bool = False) -> np.ndarray:
    """Hopfield states back to images in [0, 1] (docs/paper-experiments.md, E1: ``(x + 1) / 2``, clipped).

    ``inplace=True`` converts a float ``patterns`` array in its own memory (it is then the
    images' buffer; the paper-scale replay set is 0.5 GB).
    """
    patterns = np.asarray(patterns)
    if inplace and patterns.dtype.kind == "f" and patterns.flags.c_contiguous:
        x = np.add(patterns, 1, out=patterns)
    else:
        x = np.add(patterns, 1, dtype=np.result_type(patterns.dtype, np.float16))  # float stays float
    x /= 2
    np.clip(x, 0.0, 1.0, out=x)  # (C2) x -> clip((x + 1) / 2, 0, 1), in place: one new array
    return x.astype(patterns.dtype, copy=False).reshape((len(patterns),) + tuple(image_shape))


def build_hippocampus(memories: np.ndarray, beta: float = 20.0, normalize: bool = True):
    """Store ``memories`` ``(N, H, W, C)`` in ``ModernHopfield(beta, normalize)`` (docs/paper-experiments.md, 1.3)."""
    from refmem.hippocampus import ModernHopfield

    net = ModernHopfield(beta=beta, normalize=normalize)
    net.store(to_pattern(memories), copy=False)  # a fresh array: kept without a second copy
    return net


def replay_memories(net, n: int, rng, max_iter: int = 10, batch: int = 250,
                    progress: bool = False) -> Tuple[np.ndarray, Dict[str, np.ndarray]]:
    """``n`` replay events from uniform U(-1, 1) noise cues, in batches (docs/paper-experiments.md, E1).

    Parameters
    ----------
    net : refmem.hippocampus.ModernHopfield
        Holds the memories.
    n : int
        Number of replay events.
    rng : Generator or seed
        Source of the noise cues (drawn batch after batch).
    max_iter : int
        Hopfield updates per replay (paper: 10).
    batch : int
        Cues per call of ``net.replay``.

    Returns
    -------
    states : (n, d) ndarray
        Final Hopfield states (in [-1, 1] up to the mixture of stored patterns).
    info : dict of (n,) ndarrays
        ``winner``, ``max_weight``, ``n_iter`` from ``net.replay(..., return_info=True)``.
    """
    n, batch = check_int(n, "n", 1), check_int(batch, "batch", 1)
    rng = as_rng(rng)
    states = np.empty((n, net.dim), net.patterns.dtype)  # filled batch by batch (no concatenation copy)
    infos = {"winner": [], "max_weight": [], "n_iter": []}
    with Progress("replay", total=n, enabled=None if progress else False) as bar:
        for start in range(0, n, batch):
            b = min(batch, n - start)
            xi, info = net.replay(b, rng, max_iter=max_iter, return_info=True)
            states[start:start + b] = xi
            for k in infos:
                infos[k].append(np.asarray(info[k]))
            bar.update(b)
    return states, {k: np.concatenate(v) for k, v in infos.items()}


def _cosine_to_winner(states: np.ndarray, patterns: np.ndarray, winner: np.ndarray,
                      chunk: int = 256) -> np.ndarray:
    """Cosine of each state with its winning pattern, in float64, ``chunk`` rows at a time
    (row-wise sums: the same values as all rows at once, without float64 copies of the
    whole replay set)."""
    out = np.zeros(len(states))
    for a in range(0, len(states), chunk):
        w = patterns[winner[a:a + chunk]].astype(np.float64)
        s = np.asarray(states[a:a + chunk], dtype=np.float64)
        den = np.linalg.norm(s, axis=1) * np.linalg.norm(w, axis=1)
        num = np.einsum("ij,ij->i", s, w)
        np.divide(num, den, out=out[a:a + chunk], where=den > 0)  # cos = <s, w> / (|s| |w|)
    return out


def replay_stats(states: np.ndarray, info: Dict[str, np.ndarray], patterns: np.ndarray,
                 threshold: float = 0.99) -> Dict[str, object]:
    """Summary of a set of replays (docs/paper-experiments.md, E1 acceptance (a) and (c)).

    A replay *converged to a single memory* if its cosine with the winning stored pattern
    is >= ``threshold`` or its largest attention weight is >= ``threshold``.

    Returns
    -------
    dict
        ``n_replay``, ``fraction_converged``, ``fraction_weight_converged``,
        ``mean_cosine``, ``distinct_memories``, ``fraction_memories_replayed``,
        ``replay_count_max``, ``replay_count_histogram`` (count -> number of memories),
        ``mean_n_iter``, and for comparison ``expected_fraction_replayed_uniform``
        (1 - (1 - 1/N)^n, if replay picked memories uniformly at random).
    """
    patterns = check_float_array(patterns, "patterns", ndim=2, min_size=1)
    states = check_float_array(states, "states", shape=(None, patterns.shape[1]))
    winner = check_array(info["winner"], "info['winner']", shape=(len(states),), dtype_kind="iu")
    max_w = check_float_array(info["max_weight"], "info['max_weight']", shape=(len(states),))
    check_array(info["n_iter"], "info['n_iter']", shape=(len(states),))
    threshold = check_real(threshold, "threshold", 0.0, 1.0)
    if len(winner) and (winner.min() < 0 or winner.max() >= len(patterns)):
        raise ValueError(f"info['winner'] must index the {len(patterns)} patterns")
    cos = _cosine_to_winner(states, patterns, winner.astype(np.int64))
    converged = (cos >= threshold) | (max_w >= threshold)
    n_mem, n = patterns.shape[0], len(winner)
    counts = np.bincount(winner, minlength=n_mem)
    hist_counts = np.bincount(counts)
    return {
        "n_replay": int(n),
        "n_memories": int(n_mem),
        "fraction_converged": float(converged.mean()),
        "fraction_weight_converged": float((max_w >= threshold).mean()),
        "mean_cosine": float(cos.mean()),
        "min_cosine": float(cos.min()),
        "mean_max_weight": float(max_w.mean()),
        "distinct_memories": int(np.count_nonzero(counts)),
        "fraction_memories_replayed": float(np.count_nonzero(counts) / n_mem),
        "expected_fraction_replayed_uniform": float(1 - (1 - 1 / n_mem) ** n),
        "replay_count_max": int(counts.max()),
        "replay_count_histogram": {str(c): int(m) for c, m in enumerate(hist_counts) if m},
        "mean_n_iter": float(np.mean(info["n_iter"])),
    }


def load_or_replay(path: Optional[str], net, n: int, rng, max_iter: int, batch: int,
                   progress: bool = False) -> Tuple[np.ndarray, Dict[str, np.ndarray], bool]:
    """Replay, or load the replays cached at ``path`` (``replay.npz``) by an earlier run.

    Returns ``(states, info, from_cache)``; a fresh replay is written to ``path``
    atomically so that ``--resume`` never recomputes it. A cache file that cannot be
    read, lacks an array, or holds replays of another size, dtype or range is a cache
    miss: the replays are computed again (from the same ``rng``, so identically) and
    the file is replaced, with a warning.
    """
    if path is not None and os.path.exists(path):
        cached = _read_cache(path, net, n)
        if isinstance(cached, tuple):
            return cached[0], cached[1], True
        warn(f"replay cache {path} {cached}; replaying again")
    states, info = replay_memories(net, n, rng, max_iter=max_iter, batch=batch, progress=progress)
    if path is not None:
        save_npz(path, {"states": states, **info})
    return states, info, False


def _read_cache(path: str, net, n: int):
    """``(states, info)`` from a replay cache, or the reason it cannot be used (str)."""
    try:
        d = load_npz(path)
    except ValueError as exc:
        return f"is damaged ({exc})"
    missing = [k for k in ("states", "winner", "max_weight", "n_iter") if k not in d]
    if missing:
        return f"lacks {missing}"
    states, info = d["states"], {k: d[k] for k in ("winner", "max_weight", "n_iter")}
    if states.shape != (n, net.dim) or states.dtype != net.dtype:
        return f"holds replays of shape {states.shape} ({states.dtype}), not ({n}, {net.dim}) ({net.dtype})"
    if any(v.shape != (n,) or v.dtype.kind not in "iuf" for v in info.values()):
        return "holds replay information of the wrong shape"
    w = info["winner"]
    if (w.dtype.kind not in "iu" or (n and (w.min() < 0 or w.max() >= net.n_patterns))
            or not np.all(np.isfinite(states)) or np.abs(states).max(initial=0) > 1 + 1e-6):
        return "holds values out of range"
    return states, info
