"""Consolidation proper: train the VAE on replayed memories, epoch by epoch (docs/paper-experiments.md, 1.6, E3).

The loop measures the held-out reconstruction error and the semantic decoding accuracy
at the *start* of every epoch and once after the last (docs/paper-experiments.md, 1.9: the first point is the
untrained network), trains with :func:`refmem.neocortex.training.fit` (Keras
semantics: the epoch's loss is the mean over its batches), applies Keras'
``EarlyStopping(monitor="loss", patience, min_delta=0)`` without restoring weights, and
writes a checkpoint after every epoch.

Determinism and resume: epoch ``e`` shuffles and samples its ε from
``default_rng([batch_seed, e])``, so an epoch is a function of (weights, optimiser state,
``batch_seed``, ``e``) only. The checkpoint (:func:`save_checkpoint`, one atomic ``.npz``)
holds the VAE state, the Adam state, the metric history and the early-stopping counters;
resuming from it reproduces an uninterrupted run bit for bit (with the same BLAS thread
count). The checkpoint before it is kept (``checkpoint.prev.npz``) and used, with a
warning, when the latest one is damaged (:mod:`refmem._resume`).
"""
from __future__ import annotations

import os
import time
from typing import Callable, Dict, Optional

import numpy as np

from refmem._resume import load_checkpoint_npz, remove_checkpoint_npz, save_checkpoint_npz
from refmem._utils import check_array, check_float_array, check_int, load_npz, save_json
from refmem.progress import Progress, format_seconds
from refmem.neocortex.training import Callback, EarlyStopping, fit
from refmem.neocortex.recall import decode, encode_mu
from refmem.analysis.metrics import recon_error
from refmem.analysis.decoding import decoding_accuracy

__all__ = ["RunInterrupted", "measure_heldout", "train", "save_checkpoint",
           "load_checkpoint", "HISTORY_KEYS", "WITHIN_EPOCH_KEYS"]

#: per-epoch lists in the history (the first three per training epoch; the last two at
#: every epoch start and after the last epoch)
HISTORY_KEYS = ("loss", "recon_loss", "kl", "heldout_recon", "decoding_accuracy", "epoch_seconds")

#: history lists of the optional measurements within the first epochs (one entry per measurement)
WITHIN_EPOCH_KEYS = ("within_epoch_index", "within_step", "within_heldout_recon", "within_decoding_accuracy")


class RunInterrupted(RuntimeError):
    """Raised by the ``stop_after_epoch`` test hook after that epoch's checkpoint."""


def measure_heldout(vae, heldout: np.ndarray, labels: np.ndarray, fit_idx: np.ndarray,
                    test_idx: np.ndarray, probe_kind: str = "svc", n_recon: Optional[int] = None) -> Dict[str, float]:
    """Held-out reconstruction error and shape decoding accuracy (docs/paper-experiments.md, 1.5, 1.9).

    ``heldout_recon`` is the paper's loss metric on ``decode(mu(x))`` over the first
    ``n_recon`` held-out scenes (all if None); ``decoding_accuracy`` is the probe fitted
    on ``mu[fit_idx]`` and scored on ``mu[test_idx]``. Only the scenes these need are
    encoded, and only the first ``n_recon`` are decoded.
    """
    heldout = check_float_array(heldout, "heldout", ndim=4, min_size=1)
    labels = check_array(labels, "labels", shape=(len(heldout),))
    for name, idx in (("fit_idx", fit_idx), ("test_idx", test_idx)):
        idx = check_array(idx, name, ndim=1, dtype_kind="iu", min_size=1)
        if idx.min() < 0 or idx.max() >= len(heldout):
            raise ValueError(f"{name} must index the {len(heldout)} held-out scenes")
    n_recon = len(heldout) if n_recon is None else min(check_int(n_recon, "n_recon", 1), len(heldout))
    need = np.union1d(np.union1d(fit_idx, test_idx), np.arange(n_recon))  # sorted, unique
    mu = np.zeros((len(heldout), vae.latent_dim), vae.dtype)
    mu[need] = encode_mu(vae, heldout[need])
    x_hat = decode(vae, mu[:n_recon])  # recall = decode(mu) (docs/paper-experiments.md, 1.4)
    return {"heldout_recon": recon_error(heldout[:n_recon], x_hat),
            "decoding_accuracy": decoding_accuracy(mu, labels, fit_idx, test_idx, probe_kind)}


def _empty_history() -> Dict[str, object]:
    h: Dict[str, object] = {k: [] for k in HISTORY_KEYS + WITHIN_EPOCH_KEYS}
    h.update(epochs_done=0, stopped_early=False, done=False, best_loss=float("inf"), wait=0)
    return h


def save_checkpoint(path: str, vae, optimizer, history: Dict[str, object]) -> None:
    """One atomic ``.npz``: ``state.*`` (VAE), ``adam.*`` (optimiser), ``history.*``, ``meta``.

    The file already at ``path`` becomes the previous checkpoint (``*.prev.npz``), and
    the BLAS thread count is recorded (``blas_threads``). A JSON copy of the history is
    written beside it for people (``history.json``); the ``.npz`` is the only file
    resume reads, so the two can never disagree.
    """
    arrays = {f"state.{k}": v for k, v in vae.get_state().items()}
    arrays.update({f"adam.{k}": v for k, v in optimizer.state_dict().items()})
    arrays.update({f"history.{k}": np.asarray(history[k], dtype=np.float64) for k in HISTORY_KEYS + WITHIN_EPOCH_KEYS})
    arrays["meta"] = np.array([history["epochs_done"], history["wait"], history["stopped_early"],
                               history["done"]], dtype=np.int64)
    arrays["best_loss"] = np.array(history["best_loss"], dtype=np.float64)
    save_checkpoint_npz(path, arrays)
    save_json(os.path.join(os.path.dirname(path), "history.json"),
              {k: v for k, v in history.items() if k != "best_loss" or np.isfinite(v)})


def load_checkpoint(path: str, vae, optimizer) -> Dict[str, object]:
    """Restore VAE and optimiser from :func:`save_checkpoint`'s file; return the history.

    Raises
    ------
    ValueError
        The file is damaged or belongs to another model (the message names the file).
    """
    try:
        return _restore(load_npz(path), vae, optimizer)
    except (KeyError, TypeError, IndexError, ValueError) as exc:
        why = f"no array {exc.args[0]!r}" if isinstance(exc, KeyError) and exc.args else str(exc)
        raise ValueError(f"{path}: not a usable checkpoint ({why})") from None


def _restore(d: dict, vae, optimizer) -> Dict[str, object]:
    h = _empty_history()
    for k in HISTORY_KEYS:
        h[k] = [float(v) for v in np.asarray(d[f"history.{k}"], dtype=np.float64).ravel()]
    for k in WITHIN_EPOCH_KEYS:  # absent from checkpoints written without them
        h[k] = [float(v) for v in np.asarray(d.get(f"history.{k}", ()), dtype=np.float64).ravel()]
    epochs_done, wait, stopped, done = (int(v) for v in np.asarray(d["meta"]).ravel())
    if epochs_done < 0 or wait < 0 or len(h["loss"]) != epochs_done:
        raise ValueError(f"inconsistent history ({epochs_done} epochs done, {len(h['loss'])} losses)")
    vae.set_state({k[6:]: v for k, v in d.items() if k.startswith("state.")})
    optimizer.load_state_dict({k[5:]: v for k, v in d.items() if k.startswith("adam.")})
    h.update(epochs_done=epochs_done, wait=wait, stopped_early=bool(stopped), done=bool(done),
             best_loss=float(d["best_loss"]))
    return h


def _append_measure(history, vae, data) -> None:
    m = measure_heldout(vae, *data)
    history["heldout_recon"].append(m["heldout_recon"])
    history["decoding_accuracy"].append(m["decoding_accuracy"])


class _Consolidation(Callback):
    """The consolidation loop's bookkeeping as :func:`~refmem.neocortex.training.fit` callbacks.

    At every epoch start: the held-out measurement (unless the checkpoint already holds
    it). At every epoch end (after early stopping has decided): the epoch's numbers, a
    log line, the final measurement after the last epoch, the checkpoint, and the
    interruption hook. Within an epoch: a progress bar, and in the first
    ``within_epochs`` epochs the same measurement after every ``within_every`` steps.
    """

    def __init__(self, history, heldout_data, epochs, stopper, optimizer, checkpoint_path, stop_after_epoch,
                 log, n_train, epoch_progress, within_every=0, within_epochs=0):
        self.h, self.data, self.epochs, self.stopper = history, heldout_data, epochs, stopper
        self.optimizer, self.checkpoint_path, self.stop_after = optimizer, checkpoint_path, stop_after_epoch
        self.log, self.n_train, self.epoch_progress = log, n_train, epoch_progress
        self.first_epoch, self.t_run = history["epochs_done"], time.perf_counter()
        self.bar, self.t0, self.epoch, self.t_within = None, 0.0, 0, 0.0
        self.within_every, self.within_epochs = within_every, within_epochs

    def on_epoch_begin(self, epoch, logs, vae):
        if len(self.h["decoding_accuracy"]) == epoch:  # start-of-epoch measurement (docs/paper-experiments.md, 1.9)
            _append_measure(self.h, vae, self.data)
        self.epoch, self.t_within = epoch, 0.0
        self.bar = Progress(f"epoch {epoch + 1}", total=self.n_train,
                            enabled=None if self.epoch_progress else False).__enter__()
        self.t0 = time.perf_counter()

    def on_batch_end(self, batch, logs, vae):
        self.bar.update(logs["size"])
        if self.within_every and self.epoch < self.within_epochs and (batch + 1) % self.within_every == 0:
            t = time.perf_counter()
            m = measure_heldout(vae, *self.data)  # inference mode only: training is unchanged by it
            self.t_within += time.perf_counter() - t  # not part of the epoch's training time
            for k, v in (("within_epoch_index", self.epoch), ("within_step", batch + 1),
                         ("within_heldout_recon", m["heldout_recon"]),
                         ("within_decoding_accuracy", m["decoding_accuracy"])):
                self.h[k].append(float(v))

    def on_epoch_end(self, epoch, logs, vae):
        self.bar.__exit__(None, None, None)
        h, secs = self.h, time.perf_counter() - self.t0 - self.t_within
        h["loss"].append(float(logs["loss"]))
        h["recon_loss"].append(float(logs["recon"]))
        h["kl"].append(float(logs["kl"]))
        h["epoch_seconds"].append(secs)
        h["stopped_early"] = bool(vae.stop_training)
        h.update(epochs_done=epoch + 1, best_loss=self.stopper.best, wait=self.stopper.wait)
        elapsed = time.perf_counter() - self.t_run
        left = (self.epochs - epoch - 1) * elapsed / (epoch + 1 - self.first_epoch)
        self.log(f"epoch {epoch + 1:3d}/{self.epochs}  loss {logs['loss']:8.2f}  recon {logs['recon']:8.2f}  "
                 f"KL {logs['kl']:6.2f}  | at epoch start: held-out recon {h['heldout_recon'][epoch]:8.2f}  "
                 f"decoding acc {h['decoding_accuracy'][epoch]:.3f}  | {format_seconds(secs)}  "
                 f"elapsed {format_seconds(elapsed)}  ETA {format_seconds(left)}"
                 + ("  (early stop)" if h["stopped_early"] else ""))
        if h["stopped_early"] or epoch + 1 >= self.epochs:
            _append_measure(h, vae, self.data)
            h["done"] = True
            self.log(f"after epoch {epoch + 1:3d}: held-out recon {h['heldout_recon'][-1]:8.2f}  "
                     f"decoding acc {h['decoding_accuracy'][-1]:.3f}")
        if self.checkpoint_path:
            save_checkpoint(self.checkpoint_path, vae, self.optimizer, h)
        if self.stop_after is not None and epoch + 1 >= self.stop_after and not h["done"]:
            raise RunInterrupted(f"stopped after epoch {epoch + 1} (stop_after_epoch hook)")


def train(vae, optimizer, x_train: np.ndarray, heldout_data: tuple, *, epochs: int, batch_size: int,
          patience: int, batch_seed: int, checkpoint_path: Optional[str] = None, resume: bool = False,
          stop_after_epoch: Optional[int] = None, log: Optional[Callable[[str], None]] = None,
          epoch_progress: bool = False, callbacks=(), within_every: int = 0,
          within_epochs: int = 0) -> Dict[str, object]:
    """Train ``vae`` on ``x_train`` with per-epoch measurement, early stopping and checkpoints.

    The loop is :func:`refmem.neocortex.training.fit` (``epoch_seed=batch_seed``,
    ``initial_epoch`` = the epochs already checkpointed) with the bookkeeping as a callback.

    Parameters
    ----------
    vae : refmem.neocortex.vae.VAE
    optimizer : refmem.nn.optim.Adam
        Over ``vae.params``.
    x_train : (N, H, W, C) ndarray
        Replayed memories in [0, 1], in the VAE's dtype.
    heldout_data : tuple
        ``(heldout, labels, fit_idx, test_idx, probe_kind, n_recon)`` for
        :func:`measure_heldout`.
    epochs, batch_size, patience : int
        Maximum epochs, minibatch size, early-stopping patience (paper: 50, 32, 3).
    batch_seed : int
        Epoch ``e`` uses ``numpy.random.default_rng([batch_seed, e])`` for shuffling and ε.
    checkpoint_path : str, optional
        Where to write the checkpoint after every epoch (and read it when ``resume``);
        the one before is kept as ``*.prev.npz``.
    resume : bool
        Continue from ``checkpoint_path`` if it exists (from the previous checkpoint,
        with a warning, if the latest is damaged; ``ValueError`` if neither can be read).
        Without ``resume`` any checkpoint there is deleted first.
    stop_after_epoch : int, optional
        Test hook: raise :class:`RunInterrupted` once this many epochs are checkpointed.
    log : callable, optional
        Receives one line per epoch.
    epoch_progress : bool
        Draw a progress bar within each epoch (on a terminal only).
    callbacks : sequence, optional
        More :func:`~refmem.neocortex.training.fit` callbacks (e.g.
        :class:`~refmem.neocortex.training.Snapshots` for stages), run before the loop's
        own bookkeeping, so an epoch's checkpoint is written only after they have run.
    within_every, within_epochs : int
        Also measure (as at epoch starts) after every ``within_every`` training steps of
        the first ``within_epochs`` epochs (``within_every`` 0: never). The measurement
        runs the VAE in inference mode and fits its own probe, so the training is the same
        with or without it; its time is left out of ``epoch_seconds``.

    Returns
    -------
    history : dict
        Lists ``loss``, ``recon_loss``, ``kl``, ``epoch_seconds`` (one per epoch trained),
        ``heldout_recon``, ``decoding_accuracy`` (epoch starts and after the last epoch:
        one more entry), and ``epochs_done``, ``stopped_early``, ``done``, ``best_loss``
        (the lowest epoch loss so far; ``inf`` before the first epoch, as Keras starts it);
        the within-epoch measurements in ``within_epoch_index`` (0-based epoch), ``within_step``
        (steps done in that epoch), ``within_heldout_recon`` and
        ``within_decoding_accuracy``.
    """
    epochs, batch_size = check_int(epochs, "epochs", 0), check_int(batch_size, "batch_size", 1)
    patience, batch_seed = check_int(patience, "patience", 0), check_int(batch_seed, "batch_seed")
    within_every, within_epochs = check_int(within_every, "within_every", 0), check_int(within_epochs, "within_epochs", 0)
    if within_every and not within_epochs:
        raise ValueError("within_every > 0 needs within_epochs >= 1 (the first epochs to measure within)")
    log = log or (lambda s: None)
    history = None
    if checkpoint_path and resume:
        history = load_checkpoint_npz(checkpoint_path, lambda d: _restore(d, vae, optimizer))
        if history is not None:
            log(f"resumed from {checkpoint_path} after epoch {history['epochs_done']}")
    elif checkpoint_path:
        remove_checkpoint_npz(checkpoint_path)
    if history is None:
        history = _empty_history()
    if history["done"]:
        return history
    if history["epochs_done"] >= epochs:  # nothing to train (epochs = 0): measure once
        if len(history["decoding_accuracy"]) == history["epochs_done"]:
            _append_measure(history, vae, heldout_data)
        history["done"] = True
        return history
    stopper = EarlyStopping(patience)  # Keras EarlyStopping(monitor="loss", min_delta=0), no restore
    stopper.best, stopper.wait = history["best_loss"], history["wait"]
    book = _Consolidation(history, heldout_data, epochs, stopper, optimizer, checkpoint_path, stop_after_epoch,
                          log, len(x_train), epoch_progress, within_every, within_epochs)
    fit(vae, x_train, epochs, batch_size=batch_size, optimizer=optimizer, callbacks=[*callbacks, book],
        initial_epoch=history["epochs_done"], epoch_seed=batch_seed, early_stopping=stopper)
    return history
