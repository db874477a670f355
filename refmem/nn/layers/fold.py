"""Batch normalisation with fixed statistics folded into the layer before it.

With fixed statistics (``mode="as_run"``, which is what the paper ran, or any mode in
inference) batch normalisation is a per-channel affine map
``y = s (z - m) + beta`` with ``s = gamma / sqrt(v + eps)``. After a layer that is
linear in its kernel and bias, ``z = L(x; W) + b``, the pair is one such layer with

.. math::

    W' = W \\odot s, \\qquad b' = (b - m) \\odot s + \\beta

(``s`` along the kernel's output-channel axis), Eq. (N27) of ``docs/layers.md``: no
separate pass over the activations forward or backward. Back-propagating ``dy`` through
the folded layer gives its kernel and bias gradients ``G = dL/dW'`` and
``g_b = sum dy`` (and ``dx``); the chain rule through (N27) gives

.. math::

    dW = G \\odot s, \\quad db = g_b \\odot s, \\quad d\\beta = g_b, \\quad
    d\\gamma = \\frac{1}{\\sqrt{v + \\epsilon}} \\Big( \\sum_{\\text{kernel}} W \\odot G
    + (b - m) \\odot g_b \\Big)

(Eq. (N28)), where the sum runs over every kernel axis but the output channels. The plain
reference is the two layers run one after the other (``Sequential(..., fuse=False)``);
the tests check both give the same outputs and gradients.
"""
from __future__ import annotations

import numpy as np

__all__ = ["FoldedPair", "can_fold"]


def can_fold(layer, nxt) -> bool:
    """Whether ``nxt`` (a BatchNorm) may be folded into ``layer`` (a kernel layer)."""
    return (hasattr(layer, "forward_with") and hasattr(nxt, "affine")
            and layer.output_shape == nxt.input_shape)


class FoldedPair:
    """A kernel layer and the batch normalisation after it, run as one unit of a Sequential.

    Folded (Eq. (N27)-(N28)) whenever the normalisation uses fixed statistics
    (``bn.is_affine(train)``), else the two layers run one after the other. Holds no
    parameters of its own: it reads and accumulates into those of ``layer`` and ``bn``.
    """

    def __init__(self, layer, bn):
        self.layer, self.bn = layer, bn
        self.name = f"{layer.name}+{bn.name}"
        self.params = {**layer.params, **bn.params}  # the same arrays (no copies)

    def _scale_shape(self, kernel: np.ndarray):
        shape = [1] * kernel.ndim
        shape[self.layer.out_axis] = -1
        return shape

    def forward(self, x, train=False, rng=None):
        """``y = bn(layer(x))``; returns ``(y, cache)``."""
        layer, bn = self.layer, self.bn
        if not bn.is_affine(train):
            z, c1 = layer.forward(x, train=train, rng=rng)
            y, c2 = bn.forward(z, train=train, rng=rng)
            return y, ("plain", c1, c2)
        layer._check_input(x)
        s, m, inv = bn.affine()
        kernel = layer.params["kernel"]
        bias = layer.params.get("bias")
        shift = (bn.params["beta"] - m * s) if bias is None else (bias - m) * s + bn.params["beta"]
        y, c = layer.forward_with(x, kernel * s.reshape(self._scale_shape(kernel)), shift)  # (N27)
        return y, ("fold", c, s, m.copy(), inv)

    def backward(self, dy, cache, need_dx: bool = True):
        """Return dx (None if not ``need_dx``); accumulate both layers' gradients, Eq. (N28)."""
        layer, bn = self.layer, self.bn
        if cache[0] == "plain":
            _, c1, c2 = cache
            return layer.backward(bn.backward(dy, c2), c1, need_dx=need_dx)
        _, c, s, m, inv = cache
        dx, g, gb = layer.backward_with(dy, c, need_dx)  # G = dL/dW', g_b = sum dy
        kernel = layer.params["kernel"]
        ds = np.einsum(kernel, list(range(kernel.ndim)), g, list(range(kernel.ndim)), [layer.out_axis])  # sum W G
        layer.grads["kernel"] += g * s.reshape(self._scale_shape(kernel))  # dW = G s
        if "bias" in layer.params:
            layer.grads["bias"] += gb * s  # db = g_b s
            ds += (layer.params["bias"] - m) * gb
        else:
            ds -= m * gb
        bn.grads["gamma"] += ds * inv  # dgamma = (sum W G + (b - m) g_b) / sqrt(v + eps)
        bn.grads["beta"] += gb  # dbeta = g_b
        return dx

    def backward_params(self, dy, cache) -> None:
        """Accumulate the gradients of both layers without dx."""
        self.backward(dy, cache, need_dx=False)
