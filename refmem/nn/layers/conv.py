"""2-D convolution (Keras ``Conv2D``, NHWC, HWIO kernel) by im2col + one matrix product.

.. math::

    y[n, i, j, f] = b_f + \\sum_{a, b, c} x_p[n, i s_h + a, j s_w + b, c] \\, W[a, b, c, f]

(Eq. (N8) of ``docs/layers.md``), with ``x_p`` the input zero-padded by the
TensorFlow rule of :func:`refmem.nn.layers.padding.same_padding` ('same') or not at all
('valid'). Backward: ``dW = cols^T dY``, ``db = sum dY``, ``dx = col2im(dY W^T)``
(Eqs. (N9)-(N11)). The loop reference is :func:`refmem.nn.layers.conv_reference.conv2d_naive`.
"""
from __future__ import annotations

from typing import Any, Optional, Tuple

import numpy as np

from refmem.nn.layers.base import KernelLayer
from refmem.nn.layers._checks import check_conv_inputs, check_dy, check_shape_arg
from refmem.nn.layers.im2col import im2col
from refmem.nn.layers.initializers import glorot_uniform
from refmem.nn.layers.padding import conv_output_length, conv_padding, normalize_pair, normalize_padding, pad_hw
from refmem.nn.layers.transposed import conv_transpose

__all__ = ["Conv2D", "conv2d_forward", "conv2d_backward"]  # and _ConvLayer (shared base)


def conv2d_forward(x: np.ndarray, kernel: np.ndarray, bias: Optional[np.ndarray],
                   strides=(1, 1), padding: str = "valid") -> Tuple[np.ndarray, Any]:
    """Vectorised 2-D convolution (cross-correlation, as Keras), Eq. (N8).

    Parameters
    ----------
    x : (N, H, W, C) ndarray
    kernel : (kh, kw, C, F) ndarray
        HWIO layout.
    bias : (F,) ndarray or None
    strides : int or (int, int)
    padding : {'valid', 'same'}
        'same' uses TensorFlow's asymmetric rule (extra padding after).

    Returns
    -------
    y : (N, Ho, Wo, F) ndarray
    cache : tuple
        For :func:`conv2d_backward`.
    """
    sh, sw = normalize_pair(strides, "strides")
    padding = normalize_padding(padding)
    check_conv_inputs(x, kernel, bias, 2)
    n, h, w, c = x.shape
    kh, kw, f = kernel.shape[0], kernel.shape[1], kernel.shape[3]
    ho, wo = conv_output_length(h, kh, sh, padding), conv_output_length(w, kw, sw, padding)
    ph, pw = conv_padding(h, kh, sh, padding), conv_padding(w, kw, sw, padding)
    xp = pad_hw(x, ph, pw)
    cols = im2col(xp, (kh, kw), (sh, sw), (ho, wo))
    y = np.matmul(cols.reshape(n * ho * wo, kh * kw * c), kernel.reshape(kh * kw * c, f))  # Y = cols W
    if bias is not None:
        y += bias  # + b
    cache = (cols, kernel, x.shape, xp.shape, ph, pw, (sh, sw))
    return y.reshape(n, ho, wo, f), cache


def conv2d_backward(dy: np.ndarray, cache: Any, need_dx: bool = True):
    """Backward of :func:`conv2d_forward`, Eqs. (N9)-(N11).

    Parameters
    ----------
    dy : (N, Ho, Wo, F) ndarray
    cache : tuple from :func:`conv2d_forward`
    need_dx : bool, default True
        Skip the input gradient (returns None for it) when False.

    Returns
    -------
    dx : (N, H, W, C) ndarray or None
    dkernel : (kh, kw, C, F) ndarray
    dbias : (F,) ndarray
    """
    cols, kernel, x_shape, _, ph, pw, strides = cache
    n, ho, wo, kh, kw, c = cols.shape
    f = kernel.shape[-1]
    dy2 = np.ascontiguousarray(dy).reshape(n * ho * wo, f)
    cols2 = cols.reshape(n * ho * wo, kh * kw * c)
    dkernel = np.matmul(cols2.T, dy2).reshape(kernel.shape)  # dW = cols^T dY
    dbias = np.matmul(np.ones(dy2.shape[0], dy2.dtype), dy2)  # (N10) db = sum_{n,i,j} dY
    dx = None
    if need_dx:  # dx = crop(col2im(dY W^T)), the transposed convolution of dY, Eq. (N11)/(N25)
        dx = conv_transpose(dy2.reshape(dy.shape), kernel, strides, (ph[0], pw[0]), x_shape[1:3])
    return dx, dkernel, dbias


class _ConvLayer(KernelLayer):
    """Shared constructor and forward/backward plumbing of ``Conv2D``/``Conv2DTranspose``.

    Subclasses set ``_ops = (forward_fn, backward_fn)`` (pure functions taking
    ``(x, kernel, bias, strides, padding)`` and ``(dy, cache)``), ``_out_len`` (output
    length along one axis) and ``_kernel_shape(kh, kw, c, filters)``.
    """

    _default_name = "conv"

    def __init__(self, input_shape, filters, kernel_size, strides, padding, use_bias, dtype, rng, name):
        h, w, c = check_shape_arg(input_shape, "input_shape", ndim=3)
        filters = check_shape_arg(filters, "filters", ndim=1)[0]
        self.kernel_size = normalize_pair(kernel_size, "kernel_size")
        self.strides = normalize_pair(strides, "strides")
        self.padding = normalize_padding(padding)
        (kh, kw), (sh, sw) = self.kernel_size, self.strides
        out_hw = (self._out_len(h, kh, sh, self.padding), self._out_len(w, kw, sw, self.padding))
        super().__init__((h, w, c), out_hw + (filters,), dtype, name or self._default_name)
        self.filters, self.use_bias = filters, bool(use_bias)
        self._add_param("kernel", glorot_uniform(self._kernel_shape(kh, kw, c, filters), rng, self.dtype))
        if self.use_bias:
            self._add_param("bias", np.zeros(filters, self.dtype))

    def forward_with(self, x, kernel, bias):
        """``(N, H, W, C) -> (N, Ho, Wo, filters)`` with the given kernel and bias; ``(y, cache)``."""
        y, cache = self._ops[0](x, kernel, bias, self.strides, self.padding)
        return y, (x.shape[0], cache)

    def backward_with(self, dy, cache, need_dx: bool = True):
        """``(dx or None, dkernel, dbias)`` of :meth:`forward_with` (nothing accumulated)."""
        batch, c = cache
        check_dy(self, dy, batch)
        return self._ops[1](dy, c, need_dx)


class Conv2D(_ConvLayer):
    """Keras ``Conv2D``: NHWC input, HWIO kernel ``(kh, kw, C, filters)``, Eq. (N8).

    ``forward`` is Eq. (N8) (:func:`conv2d_forward`); ``backward`` returns dx (Eq. N11)
    and accumulates ``grads['kernel']`` (Eq. N9) and ``grads['bias']`` (Eq. N10)
    (:func:`conv2d_backward`).

    Parameters
    ----------
    input_shape : (H, W, C) tuple
    filters : int
    kernel_size : int or (int, int)
    strides : int or (int, int), default 1
    padding : {'valid', 'same'}, default 'valid'
        'same' as TensorFlow: ``out = ceil(in / s)``, asymmetric padding (extra after).
    use_bias : bool, default True
    dtype : float dtype, default float32
    rng : seed or Generator
        Glorot-uniform kernel (``fan_in = kh*kw*C``, ``fan_out = kh*kw*filters``); zero bias.
    name : str, optional
    """

    _default_name = "conv2d"
    _ops = (conv2d_forward, conv2d_backward)  # a tuple: plain functions, never bound
    out_axis = 3  # HWIO
    _out_len = staticmethod(conv_output_length)

    @staticmethod
    def _kernel_shape(kh, kw, c, f):
        return (kh, kw, c, f)  # HWIO

    def __init__(self, input_shape, filters: int, kernel_size, strides=1, padding: str = "valid",
                 use_bias: bool = True, dtype=np.float32, rng=None, name: Optional[str] = None):
        super().__init__(input_shape, filters, kernel_size, strides, padding, use_bias, dtype, rng, name)
