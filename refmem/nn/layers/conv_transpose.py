"""Transposed 2-D convolution (Keras ``Conv2DTranspose``, NHWC), by matrix product + col2im.

A transposed convolution is the input gradient of the convolution that maps the
*output* space back to the input space with the same kernel, strides and padding.
With Keras's kernel layout ``W`` of shape ``(kh, kw, F, C)`` (F = filters = output
channels, C = input channels),

.. math::

    y[n, i s_h + a - p_h, j s_w + b - p_w, f] \\mathrel{+}= \\sum_c x[n, i, j, c] W[a, b, f, c],
    \\qquad y \\mathrel{+}= b_f

(Eq. (N20) of ``docs/layers.md``), where ``(p_h, p_w)`` are the *leading* paddings of the
'same' convolution from the output length ``H s`` (TensorFlow's rule, asymmetric: the
extra row/column is cropped at the end); computed by
:func:`refmem.nn.layers.transposed.conv_transpose` (scatter or stride-phase gather form,
Eqs. (N25)-(N26)). Backward: ``dx = im2col(dy_p) W`` and
``dW = im2col(dy_p)^T x`` (Eqs. (N21)-(N22)). The loop reference is
:func:`refmem.nn.layers.conv_reference.conv2d_transpose_naive`.
"""
from __future__ import annotations

from typing import Any, Optional, Tuple

import numpy as np

from refmem.nn.layers._checks import check_conv_inputs
from refmem.nn.layers.conv import _ConvLayer
from refmem.nn.layers.im2col import im2col
from refmem.nn.layers.padding import conv_padding, conv_transpose_output_length, normalize_pair, normalize_padding, pad_hw
from refmem.nn.layers.transposed import conv_transpose

__all__ = ["Conv2DTranspose", "conv2d_transpose_forward", "conv2d_transpose_backward"]


def conv2d_transpose_forward(x: np.ndarray, kernel: np.ndarray, bias: Optional[np.ndarray],
                             strides=(1, 1), padding: str = "valid") -> Tuple[np.ndarray, Any]:
    """Vectorised transposed convolution, Eq. (N20).

    Parameters
    ----------
    x : (N, H, W, C) ndarray
    kernel : (kh, kw, F, C) ndarray
        Keras ``Conv2DTranspose`` layout.
    bias : (F,) ndarray or None
    strides : int or (int, int)
    padding : {'valid', 'same'}, default 'valid' (Keras's default)
        Output ``H s`` ('same') or ``H s + max(kh - s, 0)`` ('valid').

    Returns
    -------
    y : (N, Ho, Wo, F) ndarray
    cache : tuple
    """
    sh, sw = normalize_pair(strides, "strides")
    padding = normalize_padding(padding)
    check_conv_inputs(x, kernel, bias, 3)
    n, h, w, c = x.shape
    kh, kw, f = kernel.shape[0], kernel.shape[1], kernel.shape[2]
    ho = conv_transpose_output_length(h, kh, sh, padding)
    wo = conv_transpose_output_length(w, kw, sw, padding)
    ph, pw = conv_padding(ho, kh, sh, padding), conv_padding(wo, kw, sw, padding)
    y = conv_transpose(x, kernel, (sh, sw), (ph[0], pw[0]), (ho, wo), bias)  # y = crop(col2im(X W^T)) + b
    x2 = np.ascontiguousarray(x).reshape(n * h * w, c)
    return y, (x2, kernel, (n, h, w, c), ph, pw, (sh, sw))


def conv2d_transpose_backward(dy: np.ndarray, cache: Any, need_dx: bool = True):
    """Backward of :func:`conv2d_transpose_forward`, Eqs. (N21)-(N22).

    Parameters
    ----------
    dy : (N, Ho, Wo, F) ndarray
    cache : tuple from :func:`conv2d_transpose_forward`
    need_dx : bool, default True
        Skip the input gradient (returns None for it) when False.

    Returns
    -------
    dx : (N, H, W, C) ndarray or None
    dkernel : (kh, kw, F, C) ndarray
    dbias : (F,) ndarray
    """
    x2, kernel, x_shape, ph, pw, strides = cache
    n, h, w, c = x_shape
    kh, kw, f, _ = kernel.shape
    dyp = pad_hw(dy, ph, pw)
    dcols = im2col(dyp, (kh, kw), strides, (h, w)).reshape(n * h * w, kh * kw * f)
    dx = None
    if need_dx:
        dx = np.matmul(dcols, kernel.reshape(kh * kw * f, c)).reshape(x_shape)  # dx = im2col(dy) W
    dkernel = np.matmul(dcols.T, x2).reshape(kernel.shape)  # dW = im2col(dy)^T X
    dbias = dy.sum(axis=(0, 1, 2))  # db = sum dy
    return dx, dkernel, dbias


class Conv2DTranspose(_ConvLayer):
    """Keras ``Conv2DTranspose``: kernel ``(kh, kw, filters, C)``, Eq. (N20).

    ``forward`` is Eq. (N20) (:func:`conv2d_transpose_forward`); ``backward`` returns dx
    (Eq. N21) and accumulates ``grads['kernel']`` (Eq. N22) and ``grads['bias']``.

    Parameters
    ----------
    input_shape : (H, W, C) tuple
    filters : int
    kernel_size : int or (int, int)
    strides : int or (int, int), default 1
    padding : {'valid', 'same'}, default 'valid' (as Keras; the paper's MNIST decoder passes 'same')
        Output size ``in * s`` ('same') or ``in * s + max(k - s, 0)`` ('valid',
        ``= (in - 1) * s + k`` for ``k >= s``), as Keras with ``output_padding=None``.
    use_bias : bool, default True
    dtype, rng, name
        As :class:`refmem.nn.layers.Conv2D` (Glorot-uniform with Keras fans
        ``kh*kw*filters`` and ``kh*kw*C``; zero bias).
    """

    _default_name = "conv2d_transpose"
    _ops = (conv2d_transpose_forward, conv2d_transpose_backward)
    out_axis = 2  # (kh, kw, filters, C)
    _out_len = staticmethod(conv_transpose_output_length)

    @staticmethod
    def _kernel_shape(kh, kw, c, f):
        return (kh, kw, f, c)  # Keras Conv2DTranspose layout (out, in)

    def __init__(self, input_shape, filters: int, kernel_size, strides=1, padding: str = "valid",
                 use_bias: bool = True, dtype=np.float32, rng=None, name: Optional[str] = None):
        super().__init__(input_shape, filters, kernel_size, strides, padding, use_bias, dtype, rng, name)
