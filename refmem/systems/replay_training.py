"""Consolidation by replay in one call: store, replay from noise, train the VAE on the replays.

The basic model's consolidation (paper.md 1.3-1.6, E1) for any image set and any VAE:
the memories are stored in a modern Hopfield network (images mapped to [-1, 1]), the
network is run from ``n_replay`` uniform-noise cues, and the replayed states, mapped
back to [0, 1], are the VAE's only training data. It is how refmem consolidates the
MNIST VAE of the prototype experiment (the paper does not say how its MNIST VAE was
trained). The Shapes3D consolidation with per-epoch measurement and resume is
:func:`refmem.systems.consolidation.train`.

Examples
--------
>>> from refmem.neocortex import mnist_vae
>>> x = np.random.default_rng(0).random((6, 28, 28, 1)).astype(np.float32)
>>> out = consolidate_by_replay(mnist_vae(rng=0), x, rng=1, epochs=1, batch_size=3)
>>> out["replay"]["n_replay"], len(out["history"]["loss"])
(6, 1)
"""
from __future__ import annotations

import time
from typing import Any, Callable, Dict, Optional

import numpy as np

from refmem._utils import as_rng, check_int, check_positive
from refmem.hippocampus.replay import build_hippocampus, from_pattern, replay_memories, replay_stats
from refmem.hippocampus.traces import check_images
from refmem.neocortex.training import fit

__all__ = ["consolidate_by_replay"]


def consolidate_by_replay(vae: Any, memories: Any, rng: Any = None, *, beta: float = 20.0, normalize: bool = True,
                          max_iter: int = 10, n_replay: Optional[int] = None, replay_batch: int = 250,
                          converged_weight: float = 0.99, epochs: int = 50, batch_size: int = 32,
                          lr: float = 1e-3, amsgrad: bool = True, patience: Optional[int] = 3,
                          log: Optional[Callable[[str], None]] = None) -> Dict[str, Any]:
    """Train ``vae`` (in place) on Hopfield replays of ``memories`` (paper.md 1.3-1.6).

    1. Store ``2 x - 1`` of every memory in ``ModernHopfield(beta, normalize)``.
    2. Replay: ``xi <- X softmax(beta_eff X^T xi)`` for at most ``max_iter`` updates
       from ``xi_0 ~ U(-1, 1)^d``, ``n_replay`` times (default one per memory).
    3. Train the VAE on ``clip((xi + 1) / 2, 0, 1)`` with
       :func:`refmem.neocortex.training.fit` (Adam, AMSGrad, early stopping on the
       training loss).

    Parameters
    ----------
    vae : refmem.neocortex.vae.VAE
        Its ``input_shape`` must be the memories' image shape.
    memories : (N, H, W, C) array_like in [0, 1], N >= 1
    rng : None, int or numpy.random.Generator
        Two independent streams are derived from it: the replay cues and the
        minibatches (epoch ``e`` uses ``default_rng([seed, e])``).
    beta, normalize, max_iter, n_replay, replay_batch
        The Hopfield network and replay (paper: 20, True, 10, N, batches of 250).
    converged_weight : float, default 0.99
        For the replay statistics (:func:`refmem.hippocampus.replay.replay_stats`).
    epochs, batch_size, lr, amsgrad, patience
        VAE training (paper: 50, 32, 1e-3, True, 3).
    log : callable(str), optional
        One line after replay, after every epoch and after training.

    Returns
    -------
    dict
        ``replay`` (replay statistics), ``history`` (``fit``'s history),
        ``replay_s``, ``train_s`` (seconds).
    """
    x = check_images(memories, "memories", image_shape=tuple(vae.input_shape))
    if np.any(x < 0) or np.any(x > 1):
        raise ValueError("memories must be images in [0, 1]")
    n = len(x) if n_replay is None else check_int(n_replay, "n_replay", minimum=1)
    check_positive(beta, "beta")
    check_int(epochs, "epochs", minimum=0)
    gen = as_rng(rng)
    replay_rng, batch_seed = np.random.default_rng(gen.integers(2 ** 63)), int(gen.integers(2 ** 63))
    say = log or (lambda s: None)
    t0 = time.perf_counter()
    net = build_hippocampus(x, beta, normalize)
    states, info = replay_memories(net, n, replay_rng, max_iter=max_iter, batch=replay_batch)
    stats = replay_stats(states, info, net.patterns, converged_weight)
    train_x = from_pattern(states, x.shape[1:]).astype(vae.dtype, copy=False)  # (xi + 1) / 2, clipped
    del net, states
    t_replay = time.perf_counter() - t0
    say(f"replay: {n} events, {stats['fraction_converged']:.3f} converged to one memory, "
        f"{stats['distinct_memories']}/{len(x)} distinct memories ({t_replay:.1f}s)")
    t0 = time.perf_counter()
    def epoch_line(epoch, logs, _vae):
        say(f"epoch {epoch + 1}/{epochs}: loss {logs['loss']:.3f} (recon {logs['recon']:.3f}, KL {logs['kl']:.2f}) "
            f"[{time.perf_counter() - t0:.0f}s]")

    hist = fit(vae, train_x, int(epochs), batch_size=batch_size, lr=lr, amsgrad=amsgrad, patience=patience,
               epoch_seed=batch_seed, callbacks=[epoch_line])
    t_train = time.perf_counter() - t0
    if hist["loss"]:
        say(f"VAE trained on the replays: {hist['epochs']} epochs, loss {hist['loss'][0]:.1f} -> "
            f"{hist['loss'][-1]:.1f} ({t_train:.1f}s)")
    return {"replay": stats, "history": hist, "replay_s": t_replay, "train_s": t_train}
