"""Fully connected layer (Keras ``Dense``): ``y = x W + b`` (Eq. (N12) of ``docs/layers.md``)."""
from __future__ import annotations

from typing import Optional

import numpy as np

from refmem.nn.layers.base import Layer
from refmem.nn.layers._checks import check_dy, check_shape_arg
from refmem.nn.layers.initializers import glorot_uniform

__all__ = ["Dense"]


class Dense(Layer):
    """``y = x W + b`` with Keras layout ``W : (in, out)``.

    Backward (Eq. (N13)): ``dx = dy W^T``, ``dW = x^T dy``, ``db = sum_n dy``.

    Parameters
    ----------
    in_features, out_features : int
    use_bias : bool, default True
    dtype : float dtype, default float32
    rng : seed or Generator
        Glorot-uniform kernel (``l = sqrt(6 / (in + out))``), zero bias.
    name : str, optional
    """

    def __init__(self, in_features: int, out_features: int, use_bias: bool = True,
                 dtype=np.float32, rng=None, name: Optional[str] = None):
        in_features = check_shape_arg(in_features, "in_features", ndim=1)[0]
        out_features = check_shape_arg(out_features, "out_features", ndim=1)[0]
        super().__init__((in_features,), (out_features,), dtype, name or "dense")
        self.use_bias = bool(use_bias)
        self._add_param("kernel", glorot_uniform((in_features, out_features), rng, self.dtype))
        if self.use_bias:
            self._add_param("bias", np.zeros(out_features, self.dtype))

    def forward(self, x, train=False, rng=None):
        """x : (N, in) ndarray -> y : (N, out) ndarray, Eq. (N12); returns ``(y, x)``."""
        self._check_input(x)
        y = x @ self.params["kernel"]  # y = x W
        if self.use_bias:
            y += self.params["bias"]  # + b
        return y, x

    def backward(self, dy, cache):
        """dy : (N, out) ndarray -> dx : (N, in); accumulates dW, db (Eq. (N13))."""
        x = cache
        check_dy(self, dy, x.shape[0])
        self.grads["kernel"] += x.T @ dy  # dW = x^T dy
        if self.use_bias:
            self.grads["bias"] += dy.sum(axis=0)  # db = sum_n dy
        return dy @ self.params["kernel"].T  # dx = dy W^T
