"""Patch extraction (im2col) and its adjoint (col2im) for NHWC arrays.

These are the shared kernels of every convolution in :mod:`refmem.nn.layers`:
``im2col`` gathers the ``kh x kw`` windows of a (padded) input into a contiguous patch
matrix so a convolution becomes one matrix product; ``col2im`` scatters a patch
matrix back with overlapping windows summed, which is the adjoint (transpose) of
``im2col`` and hence the input gradient of a convolution.

``im2col`` is one copy of a strided window view (``sliding_window_view``, no Python
loop); ``col2im`` loops over the ``kh * kw`` kernel taps only, each tap one vectorised
strided add over the whole batch.
"""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["im2col", "col2im"]


def _tap_slices(a: int, b: int, out_hw: Tuple[int, int], strides: Tuple[int, int],
                origin: Tuple[int, int]):
    (ho, wo), (sh, sw), (oh, ow) = out_hw, strides, origin
    r0, c0 = oh + a, ow + b
    return slice(r0, r0 + sh * (ho - 1) + 1, sh), slice(c0, c0 + sw * (wo - 1) + 1, sw)


def im2col(xp: np.ndarray, kernel_hw: Tuple[int, int], strides: Tuple[int, int],
           out_hw: Tuple[int, int], origin: Tuple[int, int] = (0, 0),
           out: Optional[np.ndarray] = None) -> np.ndarray:
    """Gather convolution windows into a patch array.

    ``cols[n, i, j, a, b, c] = xp[n, oh + i*sh + a, ow + j*sw + b, c]``.

    Parameters
    ----------
    xp : (N, Hp, Wp, C) ndarray
        Already padded input.
    kernel_hw : (int, int)
        Window size ``(kh, kw)``.
    strides : (int, int)
    out_hw : (int, int)
        Number of window positions ``(Ho, Wo)``.
    origin : (int, int), default (0, 0)
        Offset of the first window in ``xp``.
    out : (N, Ho, Wo, kh, kw, C) ndarray, optional
        Preallocated C-contiguous output.

    Returns
    -------
    cols : (N, Ho, Wo, kh, kw, C) ndarray
        C-contiguous, so ``cols.reshape(N*Ho*Wo, kh*kw*C)`` is a free view whose
        columns are ordered like an HWIO kernel reshaped to ``(kh*kw*C, F)``.
    """
    n, _, _, c = xp.shape
    kh, kw = kernel_hw
    (ho, wo), (sh, sw), (oh, ow) = out_hw, strides, origin
    region = xp[:, oh:oh + sh * (ho - 1) + kh, ow:ow + sw * (wo - 1) + kw, :]
    win = sliding_window_view(region, (kh, kw), axis=(1, 2))[:, ::sh, ::sw]  # (N, Ho, Wo, C, kh, kw)
    win = win.transpose(0, 1, 2, 4, 5, 3)  # cols[n, i, j, a, b, c] = x[n, i*s + a, j*s + b, c]
    if out is None:
        return np.ascontiguousarray(win)
    np.copyto(out, win)
    return out


def col2im(cols: np.ndarray, xp_shape: Tuple[int, int, int, int], strides: Tuple[int, int],
           origin: Tuple[int, int] = (0, 0), out: Optional[np.ndarray] = None) -> np.ndarray:
    """Adjoint of :func:`im2col`: scatter-add patches back to image positions.

    ``out[n, oh + i*sh + a, ow + j*sw + b, c] += cols[n, i, j, a, b, c]``.

    Parameters
    ----------
    cols : (N, Ho, Wo, kh, kw, C) ndarray
    xp_shape : (N, Hp, Wp, C) tuple
        Shape of the (padded) image.
    strides, origin : (int, int)
        As in :func:`im2col`.
    out : (N, Hp, Wp, C) ndarray, optional
        Accumulated into (not zeroed) if given; a zero array is created otherwise.

    Returns
    -------
    (N, Hp, Wp, C) ndarray
        ``out`` if given, else a new array.

    Notes
    -----
    The layers' input gradients use the transposed convolution of
    :mod:`refmem.nn.layers.transposed`, which scatters the same way straight into the
    cropped window; this is the plain form.
    """
    n, ho, wo, kh, kw, c = cols.shape
    if out is None:
        out = np.zeros(xp_shape, dtype=cols.dtype)
    for a in range(kh):
        for b in range(kw):
            rs, cs = _tap_slices(a, b, (ho, wo), strides, origin)
            out[:, rs, cs, :] += cols[:, :, :, a, b, :]  # dx[i*s + a, j*s + b] += dcols[..., a, b, :]
    return out
