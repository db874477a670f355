"""Fully connected layer (Keras ``Dense``): ``y = x W + b`` (Eq. (N12) of ``docs/layers.md``)."""
from __future__ import annotations

from typing import Optional

import numpy as np
import scipy.sparse

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
        """x : (N, in) ndarray -> y : (N, out) ndarray, Eq. (N12); returns ``(y, x)``.

        ``x`` may also be a ``scipy.sparse`` matrix (converted to CSR) of the layer
        dtype: the product then reads only the nonzeros of ``x`` (``O(nnz * out)``
        instead of ``O(N * in * out)``; the bag-of-words input of the text VAE is
        ~0.5 % dense), and :meth:`backward` treats ``x`` as data (see there).
        """
        if scipy.sparse.issparse(x):
            x = _check_sparse(self, x)
            y = np.asarray(x @ self.params["kernel"])  # y = x W over the nonzeros of x
        else:
            self._check_input(x)
            y = x @ self.params["kernel"]  # y = x W
        if self.use_bias:
            y += self.params["bias"]  # + b
        return y, x

    def backward_params(self, dy, cache):
        """Accumulate dW and db of Eq. (N13) without dx."""
        self.backward(dy, cache, need_dx=False)

    def backward(self, dy, cache, need_dx: bool = True):
        """dy : (N, out) ndarray -> dx : (N, in) (None if not ``need_dx``); accumulates dW, db (Eq. (N13)).

        After a sparse forward the input is data, not a variable: ``dW = x^T dy`` is
        accumulated over the nonzeros of ``x`` and ``None`` is returned (no ``dx``).
        """
        x = cache
        check_dy(self, dy, x.shape[0])
        sparse = scipy.sparse.issparse(x)
        self.grads["kernel"] += np.asarray(x.T @ dy) if sparse else x.T @ dy  # dW = x^T dy
        if self.use_bias:
            self.grads["bias"] += dy.sum(axis=0)  # db = sum_n dy
        if sparse or not need_dx:
            return None
        return dy @ self.params["kernel"].T  # dx = dy W^T


def _check_sparse(layer: Layer, x):
    """Validate a scipy.sparse input of ``layer``; return it as CSR."""
    if x.dtype != layer.dtype:
        raise TypeError(f"{layer.name}: input dtype {x.dtype} does not match layer dtype {layer.dtype}")
    if len(layer.input_shape) != 1 or x.ndim != 2 or x.shape[1] != layer.input_shape[0]:
        raise ValueError(f"{layer.name}: expected input of shape (N, {', '.join(map(str, layer.input_shape))}), "
                         f"got sparse {x.shape}")
    return x.tocsr()
