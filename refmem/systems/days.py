"""Consolidation continued over days: memories arrive in cohorts (paper.md E9).

Day ``t = 1 .. T``: the day's cohort is stored in the hippocampus (a modern Hopfield
network holding every memory stored so far), then the hippocampus replays from noise
and the neocortical VAE trains for ``k`` more epochs on those replays. The VAE and its
optimiser carry over from day to day (no restart), so a memory stored on day ``t`` has
been available to replay on days ``t .. T`` and the neocortex has trained on it for up
to ``k (T - t + 1)`` epochs.

Bookkeeping: memories are indexed in arrival order (cohort 0 first); on day ``t`` the
network holds memories ``0 .. n_stored(t) - 1`` only, so every replay's winner is one of
them (``history["replay_counts"][t]`` counts the replays each memory received that day).

Resume: with ``checkpoint_path`` the VAE, the optimiser and the bookkeeping are saved
atomically after every day (the checkpoint before is kept as ``*.prev.npz`` and used,
with a warning, when the latest is damaged); a resumed run continues after the last
finished day and, since day ``t``'s replay cues come from ``default_rng([replay_seed, t])``
and its epochs from ``epoch_seed``, reproduces an uninterrupted run.
"""
from __future__ import annotations

from typing import Callable, Dict, Optional

import numpy as np

from refmem._resume import load_checkpoint_npz, remove_checkpoint_npz, save_checkpoint_npz
from refmem._utils import check_array, check_int
from refmem.hippocampus.replay import build_hippocampus, from_pattern, replay_memories
from refmem.neocortex.training import fit

__all__ = ["cohort_index", "stored_count", "consolidate_over_days"]


def cohort_index(n_per_cohort: int, n_days: int) -> np.ndarray:
    """Cohort (arrival day, 0-based) of each memory: ``(n_per_cohort * n_days,)`` int64.

    >>> cohort_index(2, 3).tolist()
    [0, 0, 1, 1, 2, 2]
    """
    n = check_int(n_per_cohort, "n_per_cohort", 1)
    t = check_int(n_days, "n_days", 1)
    return np.repeat(np.arange(t, dtype=np.int64), n)


def stored_count(cohort: np.ndarray, day: int) -> int:
    """Memories stored by the end of ``day`` (0-based): those of cohorts ``0 .. day``.

    >>> stored_count(cohort_index(2, 3), 1)
    4
    """
    return int(np.count_nonzero(np.asarray(cohort) <= day))


def _check_cohorts(cohort: np.ndarray, n: int) -> np.ndarray:
    cohort = np.asarray(cohort)
    if cohort.shape != (n,) or not np.issubdtype(cohort.dtype, np.integer):
        raise ValueError(f"cohort must be an int array of shape ({n},), got {cohort.dtype} {cohort.shape}")
    if n and (cohort[0] != 0 or np.any(np.diff(cohort) < 0) or np.any(np.diff(cohort) > 1)):
        raise ValueError("cohort must be sorted arrival days 0, 1, ..., T-1 (memories in arrival order)")
    return cohort.astype(np.int64)


def _empty(n_days: int, n: int) -> Dict[str, object]:
    return {"days_done": 0, "replay_counts": np.zeros((n_days, n), np.int64),
            "loss": [], "recon": [], "kl": [], "n_stored": [], "fraction_converged": []}


def _save(path, vae, optimizer, h) -> None:
    arrays = {f"state.{k}": v for k, v in vae.get_state().items()}
    arrays.update({f"adam.{k}": v for k, v in optimizer.state_dict().items()})
    arrays["replay_counts"] = h["replay_counts"]
    arrays["days_done"] = np.int64(h["days_done"])
    for k in ("loss", "recon", "kl", "n_stored", "fraction_converged"):
        arrays[f"h.{k}"] = np.asarray(h[k], np.float64)
    save_checkpoint_npz(path, arrays)


def _load(d, vae, optimizer, h) -> Dict[str, object]:
    """Restore from a checkpoint's arrays ``d`` (``ValueError``/``KeyError`` if unusable)."""
    if d["replay_counts"].shape != h["replay_counts"].shape or d["replay_counts"].dtype.kind not in "iu":
        raise ValueError(f"the checkpoint belongs to a run of another size "
                         f"({d['replay_counts'].shape} vs {h['replay_counts'].shape})")
    days_done = int(d["days_done"])
    hist = {k: [float(v) for v in np.asarray(d[f"h.{k}"], np.float64).ravel()]
            for k in ("loss", "recon", "kl", "fraction_converged", "n_stored")}
    if not 0 <= days_done <= len(h["replay_counts"]) or any(len(v) != days_done for v in hist.values()):
        raise ValueError(f"inconsistent history ({days_done} days done)")
    vae.set_state({k[6:]: v for k, v in d.items() if k.startswith("state.")})
    optimizer.load_state_dict({k[5:]: v for k, v in d.items() if k.startswith("adam.")})
    h = dict(h, replay_counts=d["replay_counts"].astype(np.int64), days_done=days_done, **hist)
    h["n_stored"] = [int(v) for v in hist["n_stored"]]
    return h


def consolidate_over_days(vae, optimizer, memories: np.ndarray, cohort: np.ndarray, *, epochs_per_day: int,
                          replays_per_day: Optional[int] = None, beta: float = 20.0, normalize: bool = True,
                          max_iter: int = 10, replay_batch: int = 250, batch_size: int = 32,
                          replay_seed: int = 0, epoch_seed: int = 0, checkpoint_path: Optional[str] = None,
                          resume: bool = False, log: Optional[Callable[[str], None]] = None) -> Dict[str, object]:
    """Store cohorts day by day, replay what is stored, train the VAE ``k`` epochs a day.

    Day ``t`` (0-based): ``net = build_hippocampus(memories[:n_t])`` with
    ``n_t = stored_count(cohort, t)``; ``r_t`` replays from U(-1, 1) noise
    (:func:`~refmem.hippocampus.replay.replay_memories`, ``max_iter`` updates); the VAE
    continues training on ``(replay + 1) / 2`` for epochs ``k t .. k (t + 1) - 1``
    (:func:`~refmem.neocortex.training.fit`, no early stopping).

    Parameters
    ----------
    vae : refmem.neocortex.vae.VAE
        Trained in place (its state after day T is the consolidated neocortex).
    optimizer : refmem.nn.optim.Adam
        Over ``vae.params``; its state carries over between days.
    memories : (N, H, W, C) ndarray in [0, 1]
        In arrival order.
    cohort : (N,) int ndarray
        Arrival day of each memory (0, ..., T-1, non-decreasing; :func:`cohort_index`).
    epochs_per_day : int >= 0
        ``k``; 0 gives a neocortex that never trains on replay (the control).
    replays_per_day : int, optional
        ``r_t``; default one replay per stored memory (``n_t``, the paper's one per memory).
    beta, normalize, max_iter, replay_batch
        Hopfield inverse temperature, scaling by sqrt(d), updates per replay, cues per call.
    batch_size : int
        VAE minibatch.
    replay_seed, epoch_seed : int
        Day ``t``'s replay cues come from ``default_rng([replay_seed, t])``; epoch ``e``
        from ``default_rng([epoch_seed, e])`` (see :func:`~refmem.neocortex.training.fit`).
    checkpoint_path : str, optional
        ``.npz`` written after every day (and read when ``resume``; without ``resume``
        any checkpoint there is deleted first).
    resume : bool
    log : callable(str), optional

    Returns
    -------
    history : dict
        ``days_done``; ``replay_counts`` (T, N) int: replays each memory received on each
        day (zero for memories not yet stored); per day: ``n_stored``,
        ``fraction_converged`` (replays whose top attention weight is >= 0.99), ``loss``,
        ``recon``, ``kl`` (the means over that day's last epoch; NaN when k = 0).
    """
    memories = check_array(memories, "memories", ndim=4)
    n = memories.shape[0]
    cohort = _check_cohorts(cohort, n)
    k = check_int(epochs_per_day, "epochs_per_day", 0)
    if replays_per_day is not None:
        check_int(replays_per_day, "replays_per_day", 1)
    log = log or (lambda s: None)
    n_days = int(cohort[-1]) + 1 if n else 0
    h = _empty(n_days, n)
    if checkpoint_path and resume:
        restored = load_checkpoint_npz(checkpoint_path, lambda d: _load(d, vae, optimizer, h))
        if restored is not None:
            h = restored
            log(f"resumed after day {h['days_done']}")
    elif checkpoint_path:
        remove_checkpoint_npz(checkpoint_path)
    for day in range(h["days_done"], n_days):
        n_t = stored_count(cohort, day)
        net = build_hippocampus(memories[:n_t], beta, normalize)      # everything stored so far
        r_t = n_t if replays_per_day is None else int(replays_per_day)
        states, info = replay_memories(net, r_t, np.random.default_rng([int(replay_seed), day]), max_iter=max_iter,
                                       batch=replay_batch)
        winners = np.asarray(info["winner"], np.int64)
        h["replay_counts"][day] = np.bincount(winners, minlength=n)[:n]
        h["n_stored"].append(n_t)
        h["fraction_converged"].append(float(np.mean(np.asarray(info["max_weight"]) >= 0.99)))
        x_train = from_pattern(states, memories.shape[1:]).astype(vae.dtype, copy=False)
        del states, net
        if k > 0:
            fh = fit(vae, x_train, k * (day + 1), batch_size=batch_size, optimizer=optimizer, patience=None,
                     initial_epoch=k * day, epoch_seed=int(epoch_seed))
            last = {key: fh[key][-1] for key in ("loss", "recon", "kl")}
        else:
            last = {key: float("nan") for key in ("loss", "recon", "kl")}
        for key in ("loss", "recon", "kl"):
            h[key].append(float(last[key]))
        h["days_done"] = day + 1
        if checkpoint_path:
            _save(checkpoint_path, vae, optimizer, h)
        log(f"day {day + 1}/{n_days}: {n_t} stored, {r_t} replays "
            f"({h['fraction_converged'][-1]:.2f} converged), {k} epochs, loss {last['loss']:.1f}")
    return h
