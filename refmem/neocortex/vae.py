"""The neocortical "student": a variational autoencoder with manual backprop [1]_.

A :class:`VAE` couples a Gaussian encoder q(z|x) = N(μ(x), diag σ²(x)) with a decoder
x̂ = g(z) and is trained by minimising the negative ELBO *as the paper's code ran it*
(docs/paper-experiments.md, 1.5)::

    loss = recon(x, g(z)) + kl_weight * KL(N(μ, σ²) || N(0, I)),   z = μ + σ ε, ε ~ N(0, I)

(Eq. (10) of [1]_ with one sample of ε per image). Every recall in the paper decodes
the mean, ``reconstruct(x) = decode(μ(x))``. The paper's three architectures are built
by :func:`shapes3d_vae`, :func:`mnist_vae` and :func:`bow_vae` (in
:mod:`refmem.neocortex.architectures`, with :func:`~refmem.neocortex.architectures.load_vae`); training (``train_epoch``/``fit``) lives
in :mod:`refmem.neocortex.training`. Equations and parameter names: ``docs/neocortex.md``.

References
----------
.. [1] D. P. Kingma and M. Welling, "Auto-Encoding Variational Bayes", ICLR 2014.
"""
from __future__ import annotations

import json
from collections import OrderedDict
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
import scipy.sparse

from refmem._utils import as_rng, check_float_array, check_int, check_positive, load_npz, save_npz
from refmem.neocortex.encoder import GaussianEncoder
from refmem.nn.layers.base import Layer
from refmem.nn.losses import bce_mean, kl_normal, mse, recon_l1_channel_mean, reparameterize

__all__ = ["VAE", "GaussianEncoder", "RECON_LOSSES", "FORMAT"]

#: reconstruction loss name -> function ``(x, x_hat) -> (loss, d_x_hat)``
RECON_LOSSES = {"l1_channel_mean": recon_l1_channel_mean, "bce": bce_mean, "mse": mse}
FORMAT = "refmem.vae/1"


class VAE:
    """Variational autoencoder: Gaussian encoder, decoder, loss as run, training.

    Parameters
    ----------
    encoder : GaussianEncoder or Layer
        A :class:`GaussianEncoder`, or a layer whose output ``(2L,)`` is split into
        ``[μ, log σ²]``.
    decoder : Layer
        ``(N, L) -> (N, *input_shape)``.
    latent_dim : int
        L; must match the encoder and the decoder.
    recon : {"l1_channel_mean", "bce", "mse"}
        Reconstruction loss (:mod:`refmem.nn.losses`); the paper's image VAEs use the L1
        channel mean, the text VAE mean BCE.
    kl_weight : float
        Weight of the KL term (paper: 1; DRM text VAE: 1e-3).
    kl_reduction : {"sum", "mean"}
        See :func:`refmem.nn.losses.kl_normal`.
    config : dict, optional
        ``{"architecture": name, "kwargs": {...}}`` of a registered constructor, set
        by the constructors; needed by :meth:`save`/:func:`~refmem.neocortex.architectures.load_vae` to rebuild.
    input_range : (float, float) or None, default (0, 1)
        Inputs outside it raise ``ValueError`` (None disables the check).

    Notes
    -----
    Inputs are validated (shape ``(N, *input_shape)``, finite, in ``input_range``) and
    cast to the model dtype at the boundary: float64 data given to a float32 model
    is converted to float32. ``loss`` reports the unweighted KL; the total is
    ``recon + kl_weight * kl``. For 1-D inputs ``x`` may also be a ``scipy.sparse``
    matrix (the text VAE's binary bags of words): the first Dense layers then read only
    its nonzeros and the results equal the dense path up to summation order.
    """

    def __init__(self, encoder: Union[GaussianEncoder, Layer], decoder: Layer, latent_dim: int,
                 recon: str = "l1_channel_mean", kl_weight: float = 1.0, kl_reduction: str = "sum",
                 config: Optional[dict] = None, input_range: Optional[Tuple[float, float]] = (0.0, 1.0)):
        if not isinstance(encoder, GaussianEncoder):
            if not isinstance(encoder, Layer):
                raise TypeError(f"encoder must be a GaussianEncoder or a Layer, got {type(encoder).__name__}")
            encoder = GaussianEncoder(encoder)
        if not isinstance(decoder, Layer):
            raise TypeError(f"decoder must be a Layer, got {type(decoder).__name__}")
        self.latent_dim = check_int(latent_dim, "latent_dim", 1)
        if encoder.latent_dim != self.latent_dim or decoder.input_shape != (self.latent_dim,):
            raise ValueError(f"latent_dim {latent_dim}: encoder gives {encoder.latent_dim}, "
                             f"decoder expects {decoder.input_shape}")
        if decoder.output_shape != encoder.input_shape:
            raise ValueError(f"decoder outputs {decoder.output_shape}, encoder reads {encoder.input_shape}")
        if encoder.dtype != decoder.dtype:
            raise TypeError(f"encoder dtype {encoder.dtype} != decoder dtype {decoder.dtype}")
        if recon not in RECON_LOSSES:
            raise ValueError(f"recon must be one of {sorted(RECON_LOSSES)}, got {recon!r}")
        if kl_reduction not in ("sum", "mean"):
            raise ValueError(f"kl_reduction must be 'sum' or 'mean', got {kl_reduction!r}")
        self.kl_weight = check_positive(kl_weight, "kl_weight", allow_zero=True)
        if not np.isfinite(self.kl_weight) or self.kl_weight < 0:
            raise ValueError(f"kl_weight must be finite and >= 0, got {kl_weight!r}")
        self.encoder, self.decoder = encoder, decoder
        self.recon, self.kl_reduction = recon, kl_reduction
        self.config = dict(config) if config else None
        self.input_range = None if input_range is None else (float(input_range[0]), float(input_range[1]))
        self.input_shape, self.dtype = encoder.input_shape, encoder.dtype
        self.stop_training = False
        self.optimizer = None  # set by fit(): the optimiser of the last run
        self.params, self.grads, self.buffers = OrderedDict(), OrderedDict(), OrderedDict()
        for prefix, part in (("encoder.", encoder), ("decoder.", decoder)):
            for k in part.params:
                self.params[prefix + k], self.grads[prefix + k] = part.params[k], part.grads[k]
            for k in part.buffers:
                self.buffers[prefix + k] = part.buffers[k]

    # ------------------------------------------------------------------ validation
    def check_input(self, x, name: str = "x") -> np.ndarray:
        """Validate a batch ``(N, *input_shape)`` (finite, in ``input_range``) and cast it to the model dtype.

        Every public method that takes images calls it; code that drives
        :meth:`forward_backward` itself (a training loop) calls it once per data set.
        A ``scipy.sparse`` matrix (1-D inputs only) is checked on its stored values
        and returned as CSR of the model dtype.
        """
        if scipy.sparse.issparse(x):
            return self._check_sparse_x(x, name)
        x = check_float_array(x, name, shape=(None,) + self.input_shape, min_size=1)
        if self.input_range is not None:
            lo, hi = self.input_range
            if x.min() < lo or x.max() > hi:
                raise ValueError(f"{name} must lie in [{lo:g}, {hi:g}], got values in "
                                 f"[{x.min():g}, {x.max():g}]")
        return x.astype(self.dtype, copy=False)

    def _check_sparse_x(self, x, name: str):
        """A scipy.sparse (N, D) input of a model with 1-D inputs -> CSR of the model dtype."""
        if len(self.input_shape) != 1 or x.ndim != 2 or x.shape[1] != self.input_shape[0] or x.shape[0] < 1:
            raise ValueError(f"{name} must have shape (N, {self.input_shape[0] if len(self.input_shape) == 1 else '...'})"
                             f" with N >= 1 (sparse input needs 1-D examples), got sparse {x.shape}")
        if x.dtype.kind not in "biuf":
            raise TypeError(f"{name} must be a real numeric matrix, got dtype {x.dtype}")
        x = x.tocsr().astype(self.dtype, copy=False)
        data = x.data
        if data.size and not np.all(np.isfinite(data)):
            raise ValueError(f"{name} contains NaN or inf")
        if self.input_range is not None and data.size:
            lo, hi = self.input_range
            dmin, dmax = min(float(data.min()), 0.0), max(float(data.max()), 0.0)
            if dmin < lo or dmax > hi:
                raise ValueError(f"{name} must lie in [{lo:g}, {hi:g}], got values in [{dmin:g}, {dmax:g}]")
        return x

    def _check_z(self, z, name: str = "z") -> np.ndarray:
        z = check_float_array(z, name, shape=(None, self.latent_dim), min_size=1)
        big = np.finfo(self.dtype).max
        if np.abs(z).max() > big:  # checked before the cast, which would turn them into inf
            raise ValueError(f"{name} has values beyond the {self.dtype.name} range (|z| <= {big:.3g}), "
                             f"max |z| = {np.abs(z).max():.3g}")
        return z.astype(self.dtype, copy=False)

    # ------------------------------------------------------------------ inference
    def _batched(self, fn, x, batch_size):
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer))
                                       or batch_size < 1):
            raise ValueError(f"batch_size must be a positive int or None, got {batch_size!r}")
        if batch_size is None or x.shape[0] <= batch_size:
            return fn(x)
        outs = [fn(x[i:i + batch_size]) for i in range(0, x.shape[0], int(batch_size))]
        if isinstance(outs[0], tuple):
            return tuple(np.concatenate(o) for o in zip(*outs))
        return np.concatenate(outs)

    def encode(self, x, batch_size: Optional[int] = 256) -> Tuple[np.ndarray, np.ndarray]:
        """Posterior parameters in inference mode.

        Parameters
        ----------
        x : (N, *input_shape) ndarray
        batch_size : int or None
            Process in chunks of this size (memory only; results are identical).

        Returns
        -------
        mu, log_var : (N, L) ndarray of the model dtype
        """
        x = self.check_input(x)
        return self._batched(lambda b: self.encoder.forward(b)[:2], x, batch_size)

    def decode(self, z, batch_size: Optional[int] = 256) -> np.ndarray:
        """Decoder mean x̂ = g(z) in inference mode.

        Parameters
        ----------
        z : (N, L) ndarray
            Latent codes (cast to the model dtype).
        batch_size : int or None
            Chunk size (memory only).

        Returns
        -------
        x_hat : (N, *input_shape) ndarray of the model dtype
        """
        z = self._check_z(z)
        return self._batched(lambda b: self.decoder.forward(b)[0], z, batch_size)

    def reconstruct(self, x, batch_size: Optional[int] = 256) -> np.ndarray:
        """Deterministic recall decode(μ(x)), as in every experiment (docs/paper-experiments.md, 1.4).

        Parameters
        ----------
        x : (N, *input_shape) ndarray
        batch_size : int or None
            Chunk size (memory only).

        Returns
        -------
        x_hat : (N, *input_shape) ndarray of the model dtype
        """
        x = self.check_input(x)
        return self._batched(lambda b: self.decoder.forward(self.encoder.forward(b)[0])[0],
                             x, batch_size)

    def encoder_activations(self, x, names: Sequence[str]) -> Dict[str, np.ndarray]:
        """Inference-mode outputs of named encoder layers (the few-shot analysis E8).

        Parameters
        ----------
        x : (N, *input_shape) ndarray
        names : str or sequence of str
            Encoder layer names, e.g. ``["conv1", "conv2", "conv3", "conv4"]`` (raw conv
            outputs, before batch norm) or ``"mu"``.

        Returns
        -------
        dict of str -> ndarray
            ``(N, *layer.output_shape)`` per name.
        """
        if isinstance(names, str):
            names = [names]
        return self.encoder.collect(self.check_input(x), list(names))

    # ------------------------------------------------------------------ loss, grads
    def forward_backward(self, x, eps, rng, train: bool, backward: bool) -> Dict[str, float]:
        """Loss of one batch, and (``backward=True``) its gradients accumulated into ``grads``.

        The step every training loop repeats. It trusts its input: ``x`` must come from
        :meth:`check_input`; :meth:`loss` and :meth:`loss_and_grads` are the validating
        entry points. ``eps`` fixes the noise ε, else it is drawn from ``rng``.
        """
        gen = as_rng(rng) if (rng is not None or eps is None) else None
        mu, log_var, c_enc = self.encoder.forward(x, train=train, rng=gen)
        z, eps = reparameterize(mu, log_var, eps=eps, rng=gen)  # z = μ + exp(log σ²/2) ε
        x_hat, c_dec = self.decoder.forward(z, train=train, rng=gen)
        target = x.toarray() if scipy.sparse.issparse(x) else x  # the loss reads a dense x
        recon, d_x_hat = RECON_LOSSES[self.recon](target, x_hat)
        kl, d_mu_kl, d_lv_kl = kl_normal(mu, log_var, self.kl_reduction)
        total = recon + self.kl_weight * kl  # (V1) negative ELBO as run: recon + w KL
        if not np.isfinite(total):
            raise FloatingPointError(f"non-finite loss (recon={recon}, kl={kl})")
        if backward:
            w = self.dtype.type(self.kl_weight)
            dz = self.decoder.backward(d_x_hat, c_dec)
            d_mu = dz + w * d_mu_kl  # (V8) dz/dμ = 1
            d_lv = dz * eps * (np.exp(0.5 * log_var) * self.dtype.type(0.5)) + w * d_lv_kl  # dz/dlog σ² = ε σ / 2
            self.encoder.backward(d_mu, d_lv, c_enc, need_dx=False)  # x is data: no dL/dx
        return {"total": total, "recon": recon, "kl": kl}

    def loss(self, x, eps=None, rng=None, train: bool = False) -> Dict[str, float]:
        """Loss with a *sampled* z, as in training: ``{"total", "recon", "kl"}`` (floats).

        Parameters
        ----------
        x : (N, *input_shape) ndarray
        eps : (N, L) ndarray, optional
            Fixed noise ε (gradient checks, cross-checks); drawn from ``rng`` otherwise.
        rng : seed or Generator, optional
        train : bool, default False
            Passed to the layers (matters only for ``mode="batch"`` layers).
        """
        return self.forward_backward(self.check_input(x), eps, rng, train, backward=False)

    def accumulate_grads(self, x, eps=None, rng=None, train: bool = True) -> Dict[str, float]:
        """Forward and backward, **adding** the gradients into :attr:`grads` (no zeroing)."""
        return self.forward_backward(self.check_input(x), eps, rng, train, backward=True)

    def loss_and_grads(self, x, eps=None, rng=None, train: bool = True):
        """Loss and freshly computed gradients (``zero_grad`` then backward).

        Returns
        -------
        losses : dict
            ``{"total", "recon", "kl"}``.
        grads : OrderedDict
            Same keys as :attr:`params`; copies (later calls do not change them).
        """
        self.zero_grad()
        losses = self.accumulate_grads(x, eps=eps, rng=rng, train=train)
        return losses, OrderedDict((k, g.copy()) for k, g in self.grads.items())

    def zero_grad(self) -> None:
        """Reset every accumulated gradient to 0."""
        self.encoder.zero_grad()
        self.decoder.zero_grad()

    # ------------------------------------------------------------------ training
    def train_epoch(self, x, optimizer, batch_size: int = 32, rng=None) -> Dict[str, float]:
        """One epoch of minibatch training; see :func:`refmem.neocortex.training.train_epoch`."""
        from refmem.neocortex.training import train_epoch
        return train_epoch(self, x, optimizer, batch_size=batch_size, rng=rng)

    def fit(self, x, epochs: int, **kwargs) -> dict:
        """Train with early stopping; see :func:`refmem.neocortex.training.fit` (same keywords)."""
        from refmem.neocortex.training import fit
        return fit(self, x, epochs, **kwargs)

    # ------------------------------------------------------------------ state, files
    def get_state(self) -> Dict[str, np.ndarray]:
        """Copies of params and buffers, keyed ``param/<name>`` and ``buffer/<name>``."""
        out = {f"param/{k}": v.copy() for k, v in self.params.items()}
        out.update({f"buffer/{k}": v.copy() for k, v in self.buffers.items()})
        return out

    def set_state(self, state: Dict[str, np.ndarray]) -> None:
        """Copy params and buffers from :meth:`get_state` output **in place** (arrays
        stay shared with the layers and any optimiser). Every key must be present."""
        want = {f"param/{k}": v for k, v in self.params.items()}
        want.update({f"buffer/{k}": v for k, v in self.buffers.items()})
        missing = sorted(set(want) - set(state))
        if missing:
            raise ValueError(f"state is missing {missing[:5]}{'...' if len(missing) > 5 else ''}")
        for k, dst in want.items():  # check everything before changing anything
            src = np.asarray(state[k])
            if src.shape != dst.shape:
                raise ValueError(f"{k}: expected shape {dst.shape}, got {src.shape}")
            if src.dtype.kind != "f" or not np.all(np.isfinite(src)):
                raise ValueError(f"{k}: expected finite floats")
        for k, dst in want.items():
            dst[...] = state[k]

    def save(self, path) -> None:
        """Write params, buffers and the JSON config to one ``.npz`` file, atomically."""
        cfg = {"format": FORMAT, "dtype": self.dtype.name, "latent_dim": self.latent_dim,
               "input_shape": list(self.input_shape), "recon": self.recon,
               "kl_weight": self.kl_weight, "kl_reduction": self.kl_reduction,
               "input_range": self.input_range, "model": self.config}
        arrays = self.get_state()
        arrays["config_json"] = np.array(json.dumps(cfg))
        save_npz(path, arrays)

    def load_weights(self, path) -> None:
        """Set params and buffers from a file written by :meth:`save` (same architecture).

        Raises ``ValueError`` naming the file when it is damaged or holds another
        architecture's weights (nothing is changed then).
        """
        d = load_npz(path)
        try:
            self.set_state(d)
        except ValueError as exc:
            raise ValueError(f"{getattr(path, 'name', path)}: {exc}") from None

    def __repr__(self) -> str:
        n = sum(p.size for p in self.params.values())
        arch = self.config.get("architecture") if self.config else "custom"
        return (f"VAE({arch}, input_shape={self.input_shape}, latent_dim={self.latent_dim}, "
                f"params={n}, dtype={self.dtype.name}, recon={self.recon!r})")
