"""Minibatch training of a :class:`refmem.neocortex.vae.VAE`, as the paper's Keras code ran it.

docs/paper-experiments.md, 1.6: Adam (lr 1e-3, AMSGrad), batch 32, data reshuffled every epoch (the
last, partial batch is kept: 10,000 images give 313 steps), per-epoch loss = mean over
that epoch's batches (what Keras reports), early stopping on the training loss with
patience 3 and min_delta 0, best weights *not* restored.

Callbacks are objects with optional ``on_epoch_begin(epoch, logs, vae)``,
``on_batch_end(batch, logs, vae)``, ``on_epoch_end(epoch, logs, vae)`` and
``on_train_end(logs, vae)`` methods (Keras style; ``logs`` is ``{}`` at epoch begin,
``{"size"}`` (images in the batch) at batch end and ``{"loss", "recon", "kl"}`` at epoch
end), or plain callables ``f(epoch, logs, vae)`` called at epoch end. They run in the
order given; a callback may set ``vae.stop_training = True`` to stop after the current
epoch. Early stopping is itself a callback (:class:`EarlyStopping`), run before the
others, so they see ``vae.stop_training`` already set on the epoch that stops.
"""
from __future__ import annotations

import math
from typing import Dict, Optional, Sequence

import numpy as np

from refmem._memory import retain_freed_memory
from refmem._utils import as_rng, check_positive, check_real
from refmem.nn.optim import Adam

__all__ = ["train_epoch", "fit", "EarlyStopping", "Callback", "Snapshots"]


class Callback:
    """No-op base class; override any of the three hooks."""

    def on_epoch_begin(self, epoch: int, logs: dict, vae) -> None:
        pass

    def on_batch_end(self, batch: int, logs: dict, vae) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: dict, vae) -> None:
        pass

    def on_train_end(self, logs: dict, vae) -> None:
        pass


class EarlyStopping(Callback):
    """Keras ``EarlyStopping(monitor="loss", patience, min_delta, restore_best_weights=False)``.

    Keras 2.11's ``on_epoch_end``: ``wait += 1``; an epoch improves when
    ``loss < best - min_delta`` (strictly: a loss equal to ``best - min_delta`` is no
    improvement), which sets ``best = loss`` and ``wait = 0``; training stops once
    ``wait >= patience`` *and* it is not the first epoch. So with ``patience = 3`` the
    run stops after the third epoch in a row that did not improve; ``patience = 0``
    stops after the second epoch (newer Keras returns early on an improving epoch, so
    there ``patience = 0`` stops at the first non-improving one; the paper uses 3, where
    the versions agree). The weights of the last epoch are kept.

    Parameters
    ----------
    patience : int >= 0, default 3
    min_delta : float >= 0, default 0.0
    """

    def __init__(self, patience: int = 3, min_delta: float = 0.0):
        if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) or patience < 0:
            raise ValueError(f"patience must be an int >= 0, got {patience!r}")
        self.patience = int(patience)
        self.min_delta = check_positive(min_delta, "min_delta", allow_zero=True)
        self.best, self.wait, self.epochs = math.inf, 0, 0
        self.stopped = False  # set when this stopper ended a fit

    def update(self, loss: float) -> bool:
        """Record one epoch's loss; return True if training should stop.

        ``best`` and ``wait`` are the whole state: a stopper whose ``best`` and ``wait``
        are restored from a checkpoint continues exactly (its next epoch is not treated
        as the first).
        """
        loss = check_real(loss, "loss")
        first = self.epochs == 0 and self.best == math.inf  # epoch 0 of the run
        self.epochs += 1
        self.wait += 1
        if loss + self.min_delta < self.best:  # improvement: loss < best - min_delta
            self.best, self.wait = loss, 0
        return self.wait >= self.patience and not first  # Keras: only after the first epoch

    def on_epoch_end(self, epoch: int, logs: dict, vae) -> None:
        if self.update(logs["loss"]):
            self.stopped = True
            vae.stop_training = True


class Snapshots(Callback):
    """Keep copies of the VAE's state at chosen epochs (stages of consolidation).

    After epoch ``e`` ends (1-based count ``e + 1`` in ``epochs``), ``states[e + 1]``
    holds :meth:`VAE.get_state` copies; ``on_save(count, vae)``, if given, is called
    too (e.g. ``vae.save(...)``, to keep the stage on disk as soon as it is reached).

    Parameters
    ----------
    epochs : iterable of int >= 1
        Epoch counts after which to snapshot.
    on_save : callable(int, VAE), optional

    Examples
    --------
    >>> Snapshots([3, 1]).epochs
    (1, 3)
    """

    def __init__(self, epochs, on_save=None):
        eps = sorted({int(e) for e in epochs})
        if not eps or eps[0] < 1:
            raise ValueError(f"snapshot epochs must be integers >= 1, got {list(epochs)!r}")
        self.epochs, self.on_save, self.states = tuple(eps), on_save, {}

    def on_epoch_end(self, epoch: int, logs: dict, vae) -> None:
        if epoch + 1 in self.epochs:
            self.states[epoch + 1] = vae.get_state()
            if self.on_save is not None:
                self.on_save(epoch + 1, vae)


def _batch_size(batch_size) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    return int(batch_size)


def _check_optimizer(optimizer) -> None:
    if not callable(getattr(optimizer, "step", None)):
        raise TypeError(f"optimizer must have a step(grads) method, got {type(optimizer).__name__}")


def _diverged(epoch: Optional[int], step: int, loss: Optional[float], what: str) -> FloatingPointError:
    """``training diverged at epoch E, step S (loss L at step S-1, then WHAT)``; E and S 1-based."""
    where = f"epoch {epoch + 1}, step {step + 1}" if epoch is not None else f"step {step + 1}"
    before = f"loss {loss:.6g} at step {step}, then " if loss is not None and step > 0 else ""
    return FloatingPointError(f"training diverged at {where} ({before}{what}); lower the learning rate")


def _grads_usable(vae) -> bool:
    """Every gradient finite, and small enough that its square fits the model's dtype."""
    limit = np.sqrt(np.finfo(vae.dtype).max)
    return all(float(np.abs(g).max(initial=0.0)) <= limit for g in vae.grads.values())


def _params_finite(vae) -> bool:
    return all(np.isfinite(p).all() for p in vae.params.values())


def train_epoch(vae, x, optimizer, batch_size: int = 32, rng=None,
                _checked: bool = False, _on_batch=None, _epoch: Optional[int] = None) -> Dict[str, float]:
    """One pass over ``x`` in shuffled minibatches, one optimiser step per batch.

    Parameters
    ----------
    vae : VAE
    x : (N, *vae.input_shape) ndarray, or (N, D) scipy.sparse matrix
        Training data (validated and cast to the model dtype once).
    optimizer : object with ``step(grads)``
        Usually :class:`refmem.nn.optim.Adam` over ``vae.params``. ``step`` receives
        ``vae.grads`` itself (the live arrays, overwritten by the next batch).
    batch_size : int, default 32
        The last batch holds the remaining ``N mod batch_size`` images (kept).
    rng : seed or Generator
        Shuffles the data, then draws every batch's ε (and dropout masks).

    Returns
    -------
    dict
        ``{"loss", "recon", "kl"}``: unweighted means over the epoch's batches.

    Raises
    ------
    FloatingPointError
        Training diverged: a batch's loss or the model's numbers became non-finite
        ("training diverged at step S (loss ...)"; :func:`fit` adds the epoch). The
        weights are then those of the failing step.

    Notes
    -----
    The first call in a process makes glibc keep freed memory for reuse
    (:func:`refmem._memory.retain_freed_memory`; set ``REFMEM_KEEP_FREED_MEMORY=0`` to
    opt out): the step's temporaries then cost no page faults.
    """
    retain_freed_memory()
    rng = as_rng(rng)
    bs = _batch_size(batch_size)
    if not _checked:
        _check_optimizer(optimizer)
    x = x if _checked else vae.check_input(x)
    order = rng.permutation(x.shape[0])  # reshuffled every epoch
    sums = {"loss": 0.0, "recon": 0.0, "kl": 0.0}
    n_batches, last = 0, None
    for start in range(0, x.shape[0], bs):
        xb = x[order[start:start + bs]]
        vae.zero_grad()
        with np.errstate(over="ignore", invalid="ignore"):  # non-finite numbers are caught below
            try:  # x is valid, so an error here comes from the model's numbers
                losses = vae.forward_backward(xb, None, rng, True, True)
            except (ValueError, FloatingPointError):
                raise _diverged(_epoch, n_batches, last, "non-finite values in the network") from None
            try:
                optimizer.step(vae.grads)
            except ValueError:
                if _grads_usable(vae):
                    raise
                raise _diverged(_epoch, n_batches, last, "non-finite or overflowing gradients") from None
        last = losses["total"]
        sums["loss"] += losses["total"]
        sums["recon"] += losses["recon"]
        sums["kl"] += losses["kl"]
        if _on_batch is not None:
            _on_batch(n_batches, {"size": xb.shape[0]})
        n_batches += 1
    if not _params_finite(vae):  # the last step's update overflowed
        raise _diverged(_epoch, n_batches - 1, last, "its update made a weight non-finite")
    return {k: v / n_batches for k, v in sums.items()}


def _hooks(callbacks: Sequence, name: str):
    for cb in callbacks:
        fn = getattr(cb, name, None)
        if fn is not None:
            yield fn
        elif name == "on_epoch_end" and callable(cb) and not hasattr(cb, "on_epoch_begin"):
            yield cb


def fit(vae, x, epochs: int, batch_size: int = 32, lr: float = 1e-3, amsgrad: bool = True,
        patience: Optional[int] = 3, min_delta: float = 0.0, rng=None, callbacks=(),
        optimizer=None, verbose: bool = False, initial_epoch: int = 0, epoch_seed: Optional[int] = None,
        early_stopping: Optional[EarlyStopping] = None) -> dict:
    """Train ``vae`` on ``x`` for up to ``epochs`` epochs with early stopping.

    Parameters
    ----------
    vae : VAE
    x : (N, *vae.input_shape) ndarray
    epochs : int
        Index of the last epoch to train (Keras: with ``initial_epoch`` = k, epochs
        k .. epochs - 1 run); the paper uses 50 for Shapes3D.
    batch_size : int, default 32
    lr : float, default 1e-3
    amsgrad : bool, default True
        Used to build ``Adam(vae.params, lr=lr, amsgrad=amsgrad)`` when ``optimizer``
        is None (the paper's optimiser).
    patience : int or None, default 3
        Early stopping on the training loss (Keras semantics, no weight restore);
        None disables it.
    min_delta : float, default 0.0
    rng : seed or Generator
        One stream for shuffling and ε over all epochs (ignored with ``epoch_seed``).
    callbacks : sequence
        See the module docstring.
    optimizer : object with ``step(grads)``, optional
        Pass one to continue training with an existing optimiser state.
    verbose : bool
        Print one line per epoch.
    initial_epoch : int, default 0
        Epoch to start at (to continue a run).
    epoch_seed : int, optional
        Epoch ``e`` shuffles and draws ε from ``numpy.random.default_rng([epoch_seed, e])``,
        so an epoch depends only on the weights, the optimiser state, the seed and ``e``:
        a run continued from a checkpoint reproduces the uninterrupted run bit for bit.
    early_stopping : EarlyStopping, optional
        The stopper to use (e.g. one whose ``best`` and ``wait`` were restored from a
        checkpoint); overrides ``patience`` and ``min_delta``.

    Returns
    -------
    history : dict
        ``{"loss": [...], "recon": [...], "kl": [...], "epochs": n_run,
        "stopped_early": bool}`` (JSON-serialisable). The optimiser used is left in
        ``vae.optimizer`` (pass it back as ``optimizer=`` to continue training).

    Raises
    ------
    TypeError
        ``optimizer`` has no ``step`` method, or ``early_stopping`` is not an
        :class:`EarlyStopping`.
    FloatingPointError
        Training diverged ("training diverged at epoch E, step S (loss ...)"), e.g.
        with a learning rate far too large.
    """
    for name, v in (("epochs", epochs), ("initial_epoch", initial_epoch)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
            raise ValueError(f"{name} must be an int >= 0, got {v!r}")
    if early_stopping is not None and not isinstance(early_stopping, EarlyStopping):
        raise TypeError(f"early_stopping must be an EarlyStopping, got {type(early_stopping).__name__}")
    rng = as_rng(rng) if epoch_seed is None else None
    x = vae.check_input(x)
    _batch_size(batch_size)
    if optimizer is None:
        optimizer = Adam(vae.params, lr=lr, amsgrad=amsgrad)
    else:
        _check_optimizer(optimizer)
    vae.optimizer = optimizer
    stopper = early_stopping
    if stopper is None and patience is not None:
        stopper = EarlyStopping(patience, min_delta)
    callbacks = ([stopper] if stopper is not None else []) + list(callbacks)
    on_batch = list(_hooks(callbacks, "on_batch_end"))
    history = {"loss": [], "recon": [], "kl": [], "epochs": 0, "stopped_early": False}
    vae.stop_training = False
    for epoch in range(int(initial_epoch), int(epochs)):
        for fn in _hooks(callbacks, "on_epoch_begin"):
            fn(epoch, {}, vae)
        batch_hook = (lambda b, logs: [fn(b, logs, vae) for fn in on_batch]) if on_batch else None
        logs = train_epoch(vae, x, optimizer, batch_size=batch_size, _checked=True, _on_batch=batch_hook,
                           rng=rng if epoch_seed is None else np.random.default_rng([epoch_seed, epoch]),
                           _epoch=epoch)
        for k in ("loss", "recon", "kl"):
            history[k].append(logs[k])
        history["epochs"] = epoch + 1 - int(initial_epoch)
        if verbose:
            print(f"epoch {epoch + 1}/{epochs}: loss {logs['loss']:.4f} "
                  f"(recon {logs['recon']:.4f}, kl {logs['kl']:.4f})", flush=True)
        for fn in _hooks(callbacks, "on_epoch_end"):
            fn(epoch, dict(logs), vae)
        if vae.stop_training:
            history["stopped_early"] = stopper is not None and stopper.stopped
            break
    for fn in _hooks(callbacks, "on_train_end"):
        fn({k: history[k][-1] for k in ("loss", "recon", "kl")} if history["loss"] else {}, vae)
    return history
