"""Element-wise activations: LeakyReLU (Keras slope 0.3), ReLU, Sigmoid (Eqs. (N1)-(N3))."""
from __future__ import annotations

from typing import Optional

import numpy as np
from scipy.special import expit

from refmem._utils import check_real
from refmem.nn.layers.base import Layer
from refmem.nn.layers._checks import check_dy, check_shape_arg

__all__ = ["LeakyReLU", "ReLU", "Sigmoid"]


class _Elementwise(Layer):
    def __init__(self, shape, dtype, name):
        shape = check_shape_arg(shape, "shape")
        super().__init__(shape, shape, dtype, name)

    def _dy(self, dy, cache):
        check_dy(self, dy, cache.shape[0])
        return dy


class LeakyReLU(_Elementwise):
    """``y = x`` if ``x > 0`` else ``alpha x`` (Eq. (N1)); Keras's default ``alpha = 0.3``.

    Forward multiplies by a slope array ``s = where(x > 0, 1, alpha)`` kept as the
    cache; backward is ``dx = s * dy`` (derivative at 0 taken as ``alpha``).

    Parameters
    ----------
    shape : tuple of int
        Per-example shape (input = output).
    alpha : float, default 0.3
    dtype : float dtype; name : str, optional
    """

    def __init__(self, shape, alpha: float = 0.3, dtype=np.float32, name: Optional[str] = None):
        super().__init__(shape, dtype, name or "leaky_re_lu")
        self.alpha = check_real(alpha, "alpha")
        self._slopes = np.array([self.alpha, 1.0], dtype=self.dtype)
        a = self.dtype.type(self.alpha)
        self._fast = (self.dtype.type(1) - a) + a == 1  # slope = [x > 0] (1 - alpha) + alpha is exact

    def forward(self, x, train=False, rng=None):
        """x : (N, *shape) -> y : (N, *shape); returns ``(y, slope)``."""
        self._check_input(x)
        if self._fast:
            slope = np.empty_like(x)
            np.greater(x, 0, out=slope)
            slope *= self._slopes[1] - self._slopes[0]
            slope += self._slopes[0]  # s = 1 if x > 0 else alpha
        else:
            slope = np.take(self._slopes, (x > 0).view(np.uint8))
        return x * slope, slope  # y = s x

    def backward(self, dy, cache):
        """dx = s * dy."""
        return self._dy(dy, cache) * cache  # dx = s dy


class ReLU(_Elementwise):
    """``y = max(x, 0)`` (Eq. (N2)); ``dx = dy * [x > 0]``.

    Parameters
    ----------
    shape : tuple of int
    dtype : float dtype; name : str, optional
    """

    def __init__(self, shape, dtype=np.float32, name: Optional[str] = None):
        super().__init__(shape, dtype, name or "re_lu")

    def forward(self, x, train=False, rng=None):
        """x : (N, *shape) -> y; returns ``(y, mask)``."""
        self._check_input(x)
        mask = x > 0
        return x * mask, mask  # y = max(x, 0)

    def backward(self, dy, cache):
        """dx = dy [x > 0]."""
        return self._dy(dy, cache) * cache  # dx = dy [x > 0]


class Sigmoid(_Elementwise):
    """``y = 1 / (1 + exp(-x))`` (Eq. (N3)), via :func:`scipy.special.expit` (no overflow
    for large ``|x|``); ``dx = dy * y * (1 - y)``.

    Parameters
    ----------
    shape : tuple of int
    dtype : float dtype; name : str, optional
    """

    def __init__(self, shape, dtype=np.float32, name: Optional[str] = None):
        super().__init__(shape, dtype, name or "sigmoid")

    def forward(self, x, train=False, rng=None):
        """x : (N, *shape) -> y in (0, 1); returns ``(y, y)``."""
        self._check_input(x)
        y = expit(x)  # y = 1 / (1 + exp(-x))
        return y, y

    def backward(self, dy, cache):
        """dx = dy y (1 - y)."""
        y = cache
        return self._dy(dy, y) * (y * (1 - y))  # dx = dy y (1 - y)
