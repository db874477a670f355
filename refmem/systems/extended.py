"""Extended model: hippocampal traces of sensory (poorly predicted) plus conceptual
(latent) features, storage in a modern Hopfield network, and hybrid recall with every
stage exposed (docs/paper-experiments.md, E12; Spens & Burgess 2024 [1]_).

An experience ``x`` is encoded at error threshold ``t`` as a trace of two parts: the
pixels the neocortical VAE predicts badly, kept verbatim ("sensory"), and the VAE's
latent mean ("conceptual") (X1-X5, :mod:`refmem.hippocampus.traces`). Recall retrieves
a trace from a partial cue in the Hopfield network (X6, ``refmem.hippocampus``) and
rebuilds the image from the retrieved sensory elements where there are any and from
the decoded latent elsewhere (X7-X9). Labels (X1)-(X9): ``docs/extended.md``.

References
----------
.. [1] Spens, E. & Burgess, N. (2024). A generative model of memory construction and
   consolidation. Nat. Hum. Behav. 8, 526-543. Code: ellie-as/generative-memory
   (``extended_model.py``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Tuple

import numpy as np

from refmem._utils import check_array, check_float_array, check_int, check_positive
from refmem.hippocampus.traces import (check_images, check_threshold, check_vae, combine, make_traces, prediction_error,
                     sensory_mask, sensory_part, split_traces, vae_decode, vae_forward)

__all__ = ["Encoding", "encode", "RecallResult", "ExtendedModel"]


# ------------------------------------------------------------------------ encoding
@dataclass
class Encoding:
    """Every stage of encoding a batch of experiences at one threshold (X1-X5).

    Attributes
    ----------
    x : (N, H, W, C) ndarray in [0, 1]
    x_hat : (N, H, W, C) ndarray, ``g(mu(x))``
    mu : (N, L) ndarray, the conceptual part
    error : (N, H, W) ndarray, channel-mean prediction error
    mask : (N, H, W) ndarray of bool
    sensory : (N, H, W, C) ndarray in [-1, 1]
    traces : (N, H*W*C + L) ndarray
    threshold : float
    """

    x: np.ndarray
    x_hat: np.ndarray
    mu: np.ndarray
    error: np.ndarray
    mask: np.ndarray
    sensory: np.ndarray
    traces: np.ndarray
    threshold: float

    @property
    def n_sensory(self) -> np.ndarray:
        """(N,) int: non-zero sensory elements per trace (the stored sensory units)."""
        return np.count_nonzero(self.sensory.reshape(len(self.sensory), -1), axis=1)


def encode(x: np.ndarray, vae: Any, threshold: float, *, x_hat: Optional[np.ndarray] = None,
           mu: Optional[np.ndarray] = None, batch_size: int = 50) -> Encoding:
    """Convert experiences (or cues) to trace format at error threshold ``t`` (X1-X5).

    Parameters
    ----------
    x : (N, H, W, C) ndarray in [0, 1]
    vae : refmem.neocortex.vae.VAE
        Its ``input_shape`` must equal ``(H, W, C)``.
    threshold : float, >= 0
    x_hat, mu : ndarray, optional
        Precomputed ``vae_forward(vae, x)`` (the sweep reuses them across thresholds).

    Returns
    -------
    Encoding
    """
    t = check_threshold(threshold)
    x = check_images(x, "x")
    check_vae(vae, x.shape[1:])
    if x_hat is None or mu is None:
        x_hat, mu = vae_forward(vae, x, batch_size)
    x_hat = check_float_array(x_hat, "x_hat", shape=x.shape).astype(x.dtype, copy=False)
    mu = check_float_array(mu, "mu", shape=(len(x), int(vae.latent_dim))).astype(x.dtype, copy=False)
    error = prediction_error(x, x_hat)
    mask = sensory_mask(error, t)
    s = sensory_part(x, mask)
    return Encoding(x=x, x_hat=x_hat, mu=mu, error=error, mask=mask, sensory=s,
                    traces=make_traces(s, mu), threshold=t)


# -------------------------------------------------------------------------- recall
@dataclass
class RecallResult:
    """Every stage of hybrid recall for a batch of cues (X6-X9).

    Images are in [0, 1]; sensory parts are in [-1, 1] (0 = not stored; show them as
    ``(s + 1) / 2``, where unstored elements are grey). ``targets``, ``stimulus``,
    ``stored_sensory`` and ``stored_latent`` are set when the cued items are known.

    Attributes
    ----------
    cue : (Q, H, W, C) ndarray
    cue_sensory : (Q, H, W, C) ndarray, the cue's sensory part (its own error mask)
    cue_latent : (Q, L) ndarray, mu(cue)
    retrieved_sensory : (Q, H, W, C) ndarray, ``s_hat``
    retrieved_latent : (Q, L) ndarray, ``z_hat``
    decoded : (Q, H, W, C) ndarray, ``g(z_hat)``
    combined : (Q, H, W, C) ndarray, the final recall
    winner : (Q,) int, index of the largest final attention weight
    max_weight : (Q,) float, that weight
    n_iter : (Q,) int, Hopfield updates run
    """

    cue: np.ndarray
    cue_sensory: np.ndarray
    cue_latent: np.ndarray
    retrieved_sensory: np.ndarray
    retrieved_latent: np.ndarray
    decoded: np.ndarray
    combined: np.ndarray
    winner: np.ndarray
    max_weight: np.ndarray
    n_iter: np.ndarray
    targets: Optional[np.ndarray] = None
    stimulus: Optional[np.ndarray] = None
    stored_sensory: Optional[np.ndarray] = None
    stored_latent: Optional[np.ndarray] = None

    @property
    def correct(self) -> np.ndarray:
        """(Q,) bool: the winner is the cued item (needs ``targets``)."""
        if self.targets is None:
            raise ValueError("correct needs the cued items' indices (recall(..., targets=...))")
        return self.winner == self.targets

    def stages(self, i: int) -> dict:
        """The six panels of the paper's recall figure for cue ``i``, each (H, W, C) in [0, 1].

        Keys: ``original``, ``noisy_cue``, ``stored_sensory``, ``retrieved_sensory``,
        ``decoded_latent``, ``combined``. ``original`` and ``stored_sensory`` need the
        targets; without them they are the cue and the cue's sensory part.
        """
        stim = self.stimulus if self.stimulus is not None else self.cue
        stored = self.stored_sensory if self.stored_sensory is not None else self.cue_sensory
        return {"original": stim[i], "noisy_cue": self.cue[i], "stored_sensory": (stored[i] + 1) / 2,
                "retrieved_sensory": (self.retrieved_sensory[i] + 1) / 2,
                "decoded_latent": self.decoded[i], "combined": self.combined[i]}


class ExtendedModel:
    """Hippocampus (modern Hopfield network) storing sensory + conceptual traces, with a
    VAE neocortex for prediction errors and schema-based completion (docs/paper-experiments.md, E12).

    Parameters
    ----------
    vae : refmem.neocortex.vae.VAE
        Trained (or, for structural tests, untrained) VAE.
    threshold : float, >= 0
        Encoding error threshold ``t`` of (X3).
    beta : float, default 100
        Hopfield inverse temperature.
    normalize : bool, default True
        ``beta_eff = beta / sqrt(d)`` (paper).
    max_iter : int, default 5
        Hopfield updates per recall (stops early only at an exact fixed point).
    combine_tol : float, default 0.01
        ``tau`` of (X9).
    batch_size : int, default 50
        Images per VAE pass.
    """

    def __init__(self, vae: Any, threshold: float, *, beta: float = 100.0, normalize: bool = True,
                 max_iter: int = 5, combine_tol: float = 0.01, batch_size: int = 50):
        from refmem.hippocampus import ModernHopfield

        self.vae = vae
        self.threshold = check_threshold(threshold)
        self.beta = check_positive(beta, "beta")
        self.max_iter = check_int(max_iter, "max_iter", minimum=1)
        self.combine_tol = check_positive(combine_tol, "combine_tol", allow_zero=True)
        self.batch_size = check_int(batch_size, "batch_size", minimum=1)
        self.hopfield = ModernHopfield(self.beta, normalize=bool(normalize))
        self.memory: Optional[Encoding] = None

    @property
    def image_shape(self) -> Tuple[int, ...]:
        return tuple(int(s) for s in self.vae.input_shape)

    @property
    def n_items(self) -> int:
        return 0 if self.memory is None else len(self.memory.traces)

    def encode(self, x: np.ndarray, *, x_hat: Optional[np.ndarray] = None,
               mu: Optional[np.ndarray] = None) -> Encoding:
        """Trace format of ``x`` at this model's threshold (X1-X5); see :func:`encode`."""
        return encode(x, self.vae, self.threshold, x_hat=x_hat, mu=mu, batch_size=self.batch_size)

    def store(self, stimuli: np.ndarray, *, x_hat: Optional[np.ndarray] = None,
              mu: Optional[np.ndarray] = None) -> Encoding:
        """Encode the stimuli and store their traces in the Hopfield network.

        Parameters
        ----------
        stimuli : (N, H, W, C) ndarray in [0, 1], N >= 1
        x_hat, mu : ndarray, optional
            Precomputed :func:`vae_forward` of ``stimuli``.

        Returns
        -------
        Encoding
            Also kept as ``self.memory``.
        """
        enc = self.encode(stimuli, x_hat=x_hat, mu=mu)
        self.hopfield.store(enc.traces)
        self.memory = enc
        return enc

    def recall(self, cues: np.ndarray, *, targets: Optional[np.ndarray] = None,
               cue_x_hat: Optional[np.ndarray] = None, cue_mu: Optional[np.ndarray] = None) -> RecallResult:
        """Hybrid recall from partial cues, every stage exposed (X1-X9).

        The cue is put in trace format with its *own* error mask (as the paper's code
        does), the Hopfield network runs at most ``max_iter`` updates, the retrieved
        latent is decoded and combined with the retrieved sensory elements.

        Parameters
        ----------
        cues : (Q, H, W, C) ndarray in [0, 1]
        targets : (Q,) int array, optional
            Indices of the cued items (fills ``stimulus``, ``stored_*`` and ``correct``).
        cue_x_hat, cue_mu : ndarray, optional
            Precomputed :func:`vae_forward` of ``cues``.

        Returns
        -------
        RecallResult
        """
        if self.memory is None:
            raise ValueError("nothing stored: call store(stimuli) before recall")
        cue_enc = self.encode(cues, x_hat=cue_x_hat, mu=cue_mu)
        xi, info = self.hopfield.retrieve(cue_enc.traces, max_iter=self.max_iter, tol=0.0,
                                          return_info=True)  # (X6), <= max_iter updates
        xi = np.asarray(xi, dtype=cue_enc.traces.dtype)
        s_hat, z_hat = split_traces(xi, self.image_shape)  # (X7)
        v = vae_decode(self.vae, z_hat, self.batch_size)  # v = g(z_hat)  (X8)
        out = combine(s_hat, v, self.combine_tol)  # (X9)
        res = RecallResult(cue=cue_enc.x, cue_sensory=cue_enc.sensory, cue_latent=cue_enc.mu,
                           retrieved_sensory=s_hat, retrieved_latent=z_hat, decoded=v, combined=out,
                           winner=np.asarray(info["winner"]).astype(np.int64),
                           max_weight=np.asarray(info["max_weight"], dtype=np.float64),
                           n_iter=np.asarray(info["n_iter"]).astype(np.int64))
        if targets is not None:
            tg = check_array(targets, "targets", ndim=1, shape=(len(cue_enc.x),), dtype_kind="iu")
            if tg.size and (tg.min() < 0 or tg.max() >= self.n_items):
                raise ValueError(f"targets must index the {self.n_items} stored items, got range "
                                 f"[{tg.min()}, {tg.max()}]")
            tg = tg.astype(np.int64)
            res.targets, res.stimulus = tg, self.memory.x[tg]
            res.stored_sensory, res.stored_latent = self.memory.sensory[tg], self.memory.mu[tg]
        return res
