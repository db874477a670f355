"""Shape layers: nearest upsampling, global average pooling, flatten, reshape."""
from __future__ import annotations

from typing import Optional

import numpy as np

from refmem.nn.layers.base import Layer
from refmem.nn.layers._checks import check_dy, check_shape_arg
from refmem.nn.layers.padding import normalize_pair

__all__ = ["UpSampling2D", "GlobalAveragePooling2D", "Flatten", "Reshape"]


class UpSampling2D(Layer):
    """Keras ``UpSampling2D`` (nearest): ``y[n, u i + r, u j + q, c] = x[n, i, j, c]`` (Eq. (N16)).

    Backward sums each ``u x u`` block of ``dy`` (Eq. (N17)).

    Parameters
    ----------
    input_shape : (H, W, C) tuple
    size : int or (int, int), default 2
    dtype : float dtype; name : str, optional
    """

    def __init__(self, input_shape, size=2, dtype=np.float32, name: Optional[str] = None):
        h, w, c = check_shape_arg(input_shape, "input_shape", ndim=3)
        self.size = normalize_pair(size, "size")
        super().__init__((h, w, c), (h * self.size[0], w * self.size[1], c), dtype,
                         name or "up_sampling2d")

    def forward(self, x, train=False, rng=None):
        """x : (N, H, W, C) ndarray -> (N, uH, uW, C); returns ``(y, N)``."""
        self._check_input(x)
        n, h, w, c = x.shape
        uh, uw = self.size
        y = np.broadcast_to(x[:, :, None, :, None, :], (n, h, uh, w, uw, c))  # y[u i + r] = x[i]
        return y.reshape(n, h * uh, w * uw, c), n

    def backward(self, dy, cache):
        """dy : (N, uH, uW, C) -> dx : (N, H, W, C), block sums (Eq. (N17))."""
        n = cache
        check_dy(self, dy, n)
        h, w, c = self.input_shape
        uh, uw = self.size
        return dy.reshape(n, h, uh, w, uw, c).sum(axis=(2, 4))  # dx[i] = sum_r dy[u i + r]


class GlobalAveragePooling2D(Layer):
    """``y[n, c] = mean_{i, j} x[n, i, j, c]`` (Eq. (N18)); ``dx = dy / (H W)`` broadcast.

    Parameters
    ----------
    input_shape : (H, W, C) tuple
    dtype : float dtype; name : str, optional
    """

    def __init__(self, input_shape, dtype=np.float32, name: Optional[str] = None):
        h, w, c = check_shape_arg(input_shape, "input_shape", ndim=3)
        super().__init__((h, w, c), (c,), dtype, name or "global_average_pooling2d")

    def forward(self, x, train=False, rng=None):
        """x : (N, H, W, C) ndarray -> (N, C); returns ``(y, N)``."""
        self._check_input(x)
        return x.mean(axis=(1, 2)), x.shape[0]  # y = mean_{i,j} x

    def backward(self, dy, cache):
        """dy : (N, C) -> dx : (N, H, W, C)."""
        n = cache
        check_dy(self, dy, n)
        h, w, c = self.input_shape
        g = dy / self.dtype.type(h * w)  # dx = dy / (H W)
        return np.ascontiguousarray(np.broadcast_to(g[:, None, None, :], (n, h, w, c)))


class Reshape(Layer):
    """Keras ``Reshape``: per-example ``input_shape -> target_shape`` (C order, as Keras).

    Parameters
    ----------
    input_shape, target_shape : tuple of int
        Same number of elements.
    dtype : float dtype; name : str, optional
    """

    def __init__(self, input_shape, target_shape, dtype=np.float32, name: Optional[str] = None):
        input_shape = check_shape_arg(input_shape, "input_shape")
        target_shape = check_shape_arg(target_shape, "target_shape")
        if int(np.prod(input_shape)) != int(np.prod(target_shape)):
            raise ValueError(f"cannot reshape {input_shape} ({int(np.prod(input_shape))} elements) "
                             f"to {target_shape} ({int(np.prod(target_shape))} elements)")
        super().__init__(input_shape, target_shape, dtype, name or "reshape")

    def forward(self, x, train=False, rng=None):
        """x : (N, *input_shape) -> (N, *target_shape); returns ``(y, N)``."""
        self._check_input(x)
        return x.reshape((x.shape[0],) + self.output_shape), x.shape[0]

    def backward(self, dy, cache):
        """dy : (N, *target_shape) -> dx : (N, *input_shape)."""
        check_dy(self, dy, cache)
        return dy.reshape((cache,) + self.input_shape)


class Flatten(Reshape):
    """Keras ``Flatten``: ``(N, *input_shape) -> (N, prod(input_shape))`` (C order).

    Parameters
    ----------
    input_shape : tuple of int
    dtype : float dtype; name : str, optional
    """

    def __init__(self, input_shape, dtype=np.float32, name: Optional[str] = None):
        input_shape = check_shape_arg(input_shape, "input_shape")
        super().__init__(input_shape, (int(np.prod(input_shape)),), dtype, name or "flatten")
