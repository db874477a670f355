"""Nearest-neighbour upsampling followed by a 'same' convolution, as one transposed convolution.

``UpsampleConv2D`` computes exactly ``Conv2D(k x k, stride 1, 'same')(UpSampling2D(u)(x))``
with the *same* ``kernel``/``bias`` parameters, but at low resolution. Output pixel
``p`` reads, under tap ``a``, the upsampled row ``p + a - p_top`` (``p_top = (k - 1) // 2``),
which is low-resolution row ``i`` when ``u i <= p + a - p_top < u i + u``. Writing
``p = u i + a' - l`` with ``l = k - 1 - p_top``, low-resolution pixel ``i`` reaches the
``k' = u + k - 1`` output rows ``a' = 0 .. k' - 1`` through the summed taps

.. math::

    T[a', b'] = \\sum_{a, b} M[a', a] \\, M[b', b] \\, W[a, b], \\qquad
    M[a', a] = [\\, 0 \\le a' + a - (k - 1) \\le u - 1 \\,]

(Eq. (N23) of ``docs/layers.md``), so the layer is the transposed convolution with
kernel ``T``, stride ``u`` and ``l`` leading rows cropped (Eq. (N25),
:func:`refmem.nn.layers.transposed.conv_transpose`). For ``k = 3, u = 2``: ``k' = 4``,
``T[0] = W2``, ``T[1] = W1 + W2``, ``T[2] = W0 + W1``, ``T[3] = W0``: 16 taps per
low-resolution pixel instead of the 36 of the upsampled convolution (2.25x fewer FLOPs).
Backward (Eq. (N24)) is a stride-``u`` convolution of ``dy``: ``dx = im2col(dy_p) T``,
``dT = im2col(dy_p)^T x``, ``dW[a, b] = sum_{a', b'} M[a', a] M[b', b] dT[a', b']``.
"""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from refmem.nn.layers.base import KernelLayer
from refmem.nn.layers._checks import check_dy, check_shape_arg
from refmem.nn.layers.im2col import im2col
from refmem.nn.layers.initializers import glorot_uniform
from refmem.nn.layers.padding import normalize_pair, normalize_padding, pad_hw, same_padding
from refmem.nn.layers.transposed import conv_transpose

__all__ = ["UpsampleConv2D", "upsample_tap_matrix"]


def upsample_tap_matrix(k: int, u: int) -> Tuple[np.ndarray, int]:
    """Tap-summing matrix of Eq. (N23) along one axis.

    Parameters
    ----------
    k : int
        Kernel size of the 'same', stride-1 convolution on the upsampled axis.
    u : int
        Upsampling factor.

    Returns
    -------
    m : (u + k - 1, k) ndarray of 0/1
        ``m[a', a] = 1`` iff tap ``a`` of the convolution, at output offset
        ``a' - lead`` from ``u i``, reads low-resolution pixel ``i``.
    lead : int
        ``k - 1 - p_top``: the leading rows of the transposed convolution that are cropped.

    Examples
    --------
    >>> m, lead = upsample_tap_matrix(3, 2)
    >>> m.astype(int).tolist(), lead
    ([[0, 0, 1], [0, 1, 1], [1, 1, 0], [1, 0, 0]], 1)
    """
    top = same_padding(u, k, 1)[0]  # = (k - 1) // 2, independent of the length
    a_out, a = np.arange(u + k - 1)[:, None], np.arange(k)[None, :]
    d = a_out + a - (k - 1)
    return ((d >= 0) & (d <= u - 1)).astype(np.float64), k - 1 - top


class UpsampleConv2D(KernelLayer):
    """``UpSampling2D(size)`` then ``Conv2D(filters, kernel_size, padding='same')``, fused.

    Same parameters (``kernel`` HWIO ``(k, k, C, filters)``, ``bias``), same output
    (to rounding) as the two-layer composition, computed as one transposed convolution
    of the low-resolution input with summed taps (Eq. (N23)).

    Parameters
    ----------
    input_shape : (H, W, C) tuple
        Low-resolution input; output is ``(size*H, size*W, filters)``.
    filters : int
    kernel_size : int or (int, int), default 3
    size : int or (int, int), default 2
    padding : {'same'}
        Only 'same' (the decoder's) is supported.
    use_bias : bool, default True
    dtype, rng, name
        As :class:`refmem.nn.layers.Conv2D`; initialisation identical to a ``Conv2D`` on
        the upsampled input (Glorot-uniform, zero bias).
    """

    def __init__(self, input_shape, filters: int, kernel_size=3, size=2, padding: str = "same",
                 use_bias: bool = True, dtype=np.float32, rng=None, name: Optional[str] = None):
        h, w, c = check_shape_arg(input_shape, "input_shape", ndim=3)
        filters = check_shape_arg(filters, "filters", ndim=1)[0]
        self.kernel_size = normalize_pair(kernel_size, "kernel_size")
        self.size = normalize_pair(size, "size")
        self.padding = normalize_padding(padding)
        if self.padding != "same":
            raise ValueError(f"UpsampleConv2D supports padding='same' only, got {padding!r}")
        (kh, kw), (uh, uw) = self.kernel_size, self.size
        super().__init__((h, w, c), (uh * h, uw * w, filters), dtype, name or "upsample_conv2d")
        self.filters, self.use_bias = filters, bool(use_bias)
        (mh, self._lead_h), (mw, self._lead_w) = upsample_tap_matrix(kh, uh), upsample_tap_matrix(kw, uw)
        self._tap_sum = np.kron(mh, mw).astype(self.dtype)  # S[(a', b'), (a, b)] = M_h[a', a] M_w[b', b]
        self._add_param("kernel", glorot_uniform((kh, kw, c, filters), rng, self.dtype))
        if self.use_bias:
            self._add_param("bias", np.zeros(filters, self.dtype))

    def transposed_kernel(self, kernel: Optional[np.ndarray] = None) -> np.ndarray:
        """The summed taps ``T`` of Eq. (N23) in convolution layout ``(k'_h, k'_w, filters, C)``.

        ``T[a', b', f, c] = sum_{a, b} M_h[a', a] M_w[b', b] kernel[a, b, c, f]``
        (``kernel`` defaults to the layer's own).
        """
        kernel = self.params["kernel"] if kernel is None else kernel
        kh, kw, c, f = kernel.shape
        w2 = kernel.transpose(0, 1, 3, 2).reshape(kh * kw, f * c)
        t = np.matmul(self._tap_sum, w2)  # T[(a', b')] = sum_{a, b} S[(a', b'), (a, b)] W[a, b]
        return t.reshape(self._tap_sum.shape[0] // (kw + self.size[1] - 1), -1, f, c)

    out_axis = 3  # HWIO

    def forward_with(self, x, kernel, bias):
        """``(N, H, W, C) -> (N, uH, uW, filters)`` by Eqs. (N23), (N25); returns ``(y, cache)``."""
        n, h, w, _ = x.shape
        (uh, uw), t = self.size, self.transposed_kernel(kernel)
        y = conv_transpose(x, t, self.size, (self._lead_h, self._lead_w), (uh * h, uw * w),
                           bias)  # y = crop(transposed conv of x with T) + b
        return y, (x, t)

    def backward_with(self, dy, cache, need_dx: bool = True):
        """``(dx or None, dkernel, dbias)`` of :meth:`forward_with`, Eq. (N24).

        ``dx = im2col(dy_p) T`` (a stride-u convolution of the padded ``dy``),
        ``dT = im2col(dy_p)^T x``, ``dW = M_h^T dT M_w``, ``db = sum dy``.
        """
        x, t = cache
        n, h, w, c = x.shape
        check_dy(self, dy, n)
        kh, kw, f, _ = t.shape
        lh, lw = self._lead_h, self._lead_w
        dyp = pad_hw(dy, (lh, kh - self.size[0] - lh), (lw, kw - self.size[1] - lw))  # the full extent
        cols = im2col(dyp, (kh, kw), self.size, (h, w)).reshape(n * h * w, kh * kw * f)
        dt = np.matmul(cols.T, x.reshape(n * h * w, c))  # dT = im2col(dy_p)^T x
        dw = np.matmul(self._tap_sum.T, dt.reshape(kh * kw, f * c))  # dW = M_h^T dT M_w
        dw = dw.reshape(self.kernel_size + (f, c)).transpose(0, 1, 3, 2)
        dy2 = dy.reshape(-1, f)
        db = np.matmul(np.ones(dy2.shape[0], self.dtype), dy2)  # db = sum dy
        dx = None
        if need_dx:
            dx = np.matmul(cols, t.reshape(kh * kw * f, c)).reshape(x.shape)  # dx = im2col(dy_p) T
        return dx, dw, db
