"""Slow, obviously-correct loop references for the convolutions (used by the tests).

They share nothing with the vectorised kernels except the padding arithmetic of
:mod:`refmem.nn.layers.padding` (whose formulas are tested against Keras's separately):
no im2col, no col2im, bounds handled by explicit ``if`` tests instead of padding.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from refmem.nn.layers._checks import check_conv_inputs
from refmem.nn.layers.padding import (conv_output_length, conv_padding, conv_transpose_output_length,
                      normalize_pair, normalize_padding)

__all__ = ["conv2d_naive", "conv2d_transpose_naive", "conv_transpose_naive"]


def conv2d_naive(x: np.ndarray, kernel: np.ndarray, bias: Optional[np.ndarray] = None,
                 strides=1, padding: str = "valid") -> np.ndarray:
    """Loop reference of Keras ``Conv2D``, Eq. (N8) of ``docs/layers.md``.

    Parameters
    ----------
    x : (N, H, W, C) ndarray
    kernel : (kh, kw, C, F) ndarray
    bias : (F,) ndarray, optional
    strides : int or (int, int)
    padding : {'valid', 'same'}

    Returns
    -------
    (N, Ho, Wo, F) ndarray
    """
    sh, sw = normalize_pair(strides, "strides")
    padding = normalize_padding(padding)
    check_conv_inputs(x, kernel, bias, 2)
    n, h, w, c = x.shape
    kh, kw, _, f = kernel.shape
    ho, wo = conv_output_length(h, kh, sh, padding), conv_output_length(w, kw, sw, padding)
    top, left = conv_padding(h, kh, sh, padding)[0], conv_padding(w, kw, sw, padding)[0]
    y = np.zeros((n, ho, wo, f), dtype=np.result_type(x, kernel))
    for i in range(ho):
        for j in range(wo):
            for a in range(kh):
                for b in range(kw):
                    r, q = i * sh + a - top, j * sw + b - left  # input pixel under tap (a, b)
                    if 0 <= r < h and 0 <= q < w:  # outside = zero padding
                        y[:, i, j, :] += x[:, r, q, :] @ kernel[a, b]  # sum_c x W[a, b, c, :]
    if bias is not None:
        y += bias
    return y


def conv2d_transpose_naive(x: np.ndarray, kernel: np.ndarray, bias: Optional[np.ndarray] = None,
                           strides=1, padding: str = "valid") -> np.ndarray:
    """Loop reference of Keras ``Conv2DTranspose`` (scatter form), Eq. (N20).

    Each input pixel ``(i, j)`` adds ``W[a, b] @ x[i, j]`` at output position
    ``(i*s + a - p_top, j*s + b - p_left)`` where ``p_top``/``p_left`` are the leading
    paddings of the 'same' convolution from the output length (TensorFlow's rule).

    Parameters
    ----------
    x : (N, H, W, C) ndarray
    kernel : (kh, kw, F, C) ndarray
    bias : (F,) ndarray, optional
    strides : int or (int, int)
    padding : {'valid', 'same'}, default 'valid'

    Returns
    -------
    (N, Ho, Wo, F) ndarray
    """
    sh, sw = normalize_pair(strides, "strides")
    padding = normalize_padding(padding)
    check_conv_inputs(x, kernel, bias, 3)
    _, h, w, _ = x.shape
    kh, kw = kernel.shape[0], kernel.shape[1]
    ho = conv_transpose_output_length(h, kh, sh, padding)
    wo = conv_transpose_output_length(w, kw, sw, padding)
    top, left = conv_padding(ho, kh, sh, padding)[0], conv_padding(wo, kw, sw, padding)[0]
    return conv_transpose_naive(x, kernel, (sh, sw), (top, left), (ho, wo), bias)  # origin = leading padding


def conv_transpose_naive(x: np.ndarray, kernel: np.ndarray, strides, origin, out_hw,
                         bias: Optional[np.ndarray] = None) -> np.ndarray:
    """Loop reference of the cropped transposed convolution, Eq. (N25) of ``docs/layers.md``.

    ``Y[n, s_h i + a, s_w j + b, :] += kernel[a, b] @ x[n, i, j, :]``, then
    ``y[n, i, j] = Y[n, origin_h + i, origin_w + j]`` (zero outside ``Y``) ``+ bias``.

    Parameters
    ----------
    x : (N, H, W, B) ndarray
    kernel : (kh, kw, A, B) ndarray
        Convolution layout (the convolution maps A to B channels).
    strides, origin, out_hw : (int, int)
    bias : (A,) ndarray, optional

    Returns
    -------
    (N, out_h, out_w, A) ndarray
    """
    n, h, w, _ = x.shape
    kh, kw, a_ch, _ = kernel.shape
    (sh, sw), (oh, ow), (ho, wo) = strides, origin, out_hw
    y = np.zeros((n, ho, wo, a_ch), dtype=np.result_type(x, kernel))
    for i in range(h):
        for j in range(w):
            for a in range(kh):
                for b in range(kw):
                    r, q = i * sh + a - oh, j * sw + b - ow  # kept pixel hit by tap (a, b)
                    if 0 <= r < ho and 0 <= q < wo:  # outside = cropped
                        y[:, r, q, :] += x[:, i, j, :] @ kernel[a, b].T
    if bias is not None:
        y += bias
    return y
