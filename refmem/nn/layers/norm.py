"""Batch normalisation over the last (channel) axis, in the paper's two modes.

* ``mode="as_run"`` (default, what the paper's Keras code did, docs/paper-experiments.md, 1.7): always
  the inference formula with the moving statistics, which are never updated,

  .. math:: y = \\gamma (x - m) / \\sqrt{v + \\epsilon} + \\beta     \\quad \\text{(Eq. (N4))}

  With the initial buffers ``m = 0, v = 1`` this is ``y = gamma x / sqrt(1.001) + beta``.
* ``mode="batch"`` (the intended variant): with ``train=True``, batch statistics over
  every axis but the last (``mu``, biased ``sigma^2``),
  ``y = gamma (x - mu) / sqrt(sigma^2 + eps) + beta`` (Eq. (N5)), moving statistics
  updated Keras-style ``m <- momentum m + (1 - momentum) mu``,
  ``v <- momentum v + (1 - momentum) c sigma^2`` (Eq. (N6)), and the full backward
  through ``mu`` and ``sigma^2`` (Eq. (N7)); with ``train=False``, Eq. (N4).
  ``c = M / (M - 1)`` (Bessel's correction, ``M`` = elements per channel, ``c = 1`` if
  ``M = 1``) for image input ``(H, W, C)`` / ``(D, H, W, C)``, where Keras runs TF's
  fused kernel, which feeds the *unbiased* batch variance to the moving average;
  ``c = 1`` (biased) for other ranks, Keras's non-fused path. Only ``moving_variance``
  depends on it; the normalisation itself always uses the biased ``sigma^2``.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from refmem.nn.layers.base import Layer
from refmem._utils import check_positive, check_real
from refmem.nn.layers._checks import check_dy, check_shape_arg

__all__ = ["BatchNorm"]

_MODES = ("as_run", "batch")


class BatchNorm(Layer):
    """Keras ``BatchNormalization`` (channel = last axis), modes 'as_run' and 'batch'.

    Parameters
    ----------
    input_shape : tuple of int
        Per-example shape, e.g. ``(H, W, C)`` or ``(D,)``; statistics are per last axis.
    mode : {'as_run', 'batch'}, default 'as_run'
    momentum : float in [0, 1], default 0.99
        Keras convention: weight of the *old* moving value (PyTorch's 0.1 = 1 - 0.9).
    eps : float > 0, default 1e-3
        Keras default (PyTorch: 1e-5).
    dtype : float dtype; name : str, optional

    Notes
    -----
    ``params``: ``gamma`` (ones), ``beta`` (zeros); ``buffers``: ``moving_mean``
    (zeros), ``moving_variance`` (ones), updated in place (Eq. (N6)) only in batch
    mode with ``train=True``.
    """

    def __init__(self, input_shape, mode: str = "as_run", momentum: float = 0.99,
                 eps: float = 1e-3, dtype=np.float32, name: Optional[str] = None):
        input_shape = check_shape_arg(input_shape, "input_shape")
        super().__init__(input_shape, input_shape, dtype, name or "batch_normalization")
        if mode not in _MODES:
            raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
        self.mode = mode
        self.momentum = check_real(momentum, "momentum", 0.0, 1.0)
        self.eps = check_positive(eps, "eps")
        c = input_shape[-1]
        self._add_param("gamma", np.ones(c, self.dtype))
        self._add_param("beta", np.zeros(c, self.dtype))
        self.buffers["moving_mean"] = np.zeros(c, self.dtype)
        self.buffers["moving_variance"] = np.ones(c, self.dtype)
        self._fused = len(input_shape) in (3, 4)  # Keras fuses 4-D/5-D batch input (NHWC/NDHWC)

    def forward(self, x, train=False, rng=None):
        """x : (N, *input_shape) -> y, Eq. (N4) or (N5); returns ``(y, cache)``."""
        self._check_input(x)
        c = self.input_shape[-1]
        x2 = x.reshape(-1, c)
        gamma, beta = self.params["gamma"], self.params["beta"]
        if self.mode == "batch" and train:
            if x2.shape[0] == 0:
                raise ValueError("batch statistics need at least one example, got an empty batch")
            mu = x2.mean(axis=0)  # mu = mean over (N, H, W)
            xc = x2 - mu
            var = np.einsum("ij,ij->j", xc, xc) / x2.shape[0]  # biased sigma^2
            inv = 1.0 / np.sqrt(var + self.dtype.type(self.eps))
            xc *= inv
            xhat = xc  # xhat = (x - mu) / sqrt(sigma^2 + eps)
            y = xhat * gamma
            y += beta  # y = gamma xhat + beta, Eq. (N5)
            mom = self.dtype.type(self.momentum)
            mm, mv = self.buffers["moving_mean"], self.buffers["moving_variance"]
            mm *= mom; mm += (1 - mom) * mu  # m <- momentum m + (1 - momentum) mu, Eq. (N6)
            m_rows = x2.shape[0]
            bessel = m_rows / (m_rows - 1) if (self._fused and m_rows > 1) else 1.0  # TF fused: M/(M-1)
            mv *= mom; mv += (1 - mom) * self.dtype.type(bessel) * var  # v <- momentum v + (1 - momentum) c sigma^2
            return y.reshape(x.shape), ("batch", xhat, inv)
        scale, m, inv = self.affine()
        y = x2 * scale
        y += beta - m * scale  # y = gamma (x - m) / sqrt(v + eps) + beta, Eq. (N4)
        return y.reshape(x.shape), ("fixed", x2, inv, m.copy())

    def is_affine(self, train: bool) -> bool:
        """Whether a forward pass with this ``train`` uses the fixed statistics (Eq. (N4)),
        i.e. is the per-channel affine map of :meth:`affine`."""
        return self.mode == "as_run" or not train

    def affine(self):
        """``(s, m, inv)`` of Eq. (N4): ``y = s (x - m) + beta``, ``s = gamma inv``,
        ``inv = 1 / sqrt(v + eps)`` (per channel, from the current buffers)."""
        m, v = self.buffers["moving_mean"], self.buffers["moving_variance"]
        inv = 1.0 / np.sqrt(v + self.dtype.type(self.eps))
        return self.params["gamma"] * inv, m, inv

    def backward(self, dy, cache):
        """dy -> dx; accumulates ``grads['gamma']``, ``grads['beta']`` (Eq. (N7) in batch mode)."""
        kind = cache[0]
        m_rows = cache[1].shape[0]
        c = self.input_shape[-1]
        batch = m_rows // int(np.prod(self.input_shape[:-1]))
        check_dy(self, dy, batch)
        dy2 = dy.reshape(-1, c)
        gamma = self.params["gamma"]
        dbeta = dy2.sum(axis=0)  # dbeta = sum dy
        if kind == "batch":
            _, xhat, inv = cache
            dgamma = np.einsum("ij,ij->j", dy2, xhat)  # dgamma = sum dy xhat
            # dx = gamma / sqrt(var+eps) * (dy - mean(dy) - xhat mean(dy xhat)), Eq. (N7)
            dx = (dy2 - dbeta / m_rows - xhat * (dgamma / m_rows)) * (gamma * inv)
        else:
            _, x2, inv, m = cache
            dgamma = (np.einsum("ij,ij->j", dy2, x2) - m * dbeta) * inv  # sum dy (x - m) / sqrt(v + eps)
            dx = dy2 * (gamma * inv)  # dx = gamma dy / sqrt(v + eps)
        self.grads["gamma"] += dgamma
        self.grads["beta"] += dbeta
        return dx.reshape(dy.shape)
