"""The transposed convolution shared by every strided layer, in scatter and gather form.

With a convolution kernel ``W : (kh, kw, A, B)`` (HWIO: the convolution maps A channels
to B channels with strides ``(sh, sw)``), the *transposed* convolution maps a B-channel
``x : (N, H, W, B)`` to the A-channel full output

.. math::

    Y[n, s_h i + a, s_w j + b, :] \\mathrel{+}= W[a, b] \\, x[n, i, j, :],
    \\qquad Y : (N, s_h (H - 1) + k_h, s_w (W - 1) + k_w, A)

(Eq. (N25) of ``docs/layers.md``), of which a layer keeps the window
``y[n, i, j] = Y[n, o_h + i, o_w + j]`` (zero where the window leaves ``Y``). It is the
input gradient of ``Conv2D`` (``dx = crop(Y(dy))``), the forward pass of
``Conv2DTranspose`` and, with a tap-summed kernel, of ``UpsampleConv2D``.

Two exact ways to compute it:

* **scatter** (:func:`conv_transpose_scatter`, the plain form): one matrix product
  ``cols = x W^T`` gives every tap's contribution at every input pixel, and each tap's
  block is added into place (col2im). Minimal FLOPs, but a ``kh kw``-times larger
  intermediate and strided adds.
* **gather** (:func:`conv_transpose_gather`, stride phases, needs ``k % s == 0``): with
  ``k = s m`` along each axis, output row ``s I + r`` (phase ``r``) receives from input
  rows ``I - q`` (``q < m``) through tap ``s q + r``, so every phase is an ``m x m``
  stride-1 convolution of the input zero-padded by ``m - 1``:

  .. math::

      Y[n, s I + r, s J + r', :] = \\sum_{t, v < m} x_p[n, I + t, J + v, :] \\,
      W[s (m - 1 - t) + r, s (m - 1 - v) + r']^T

  (Eq. (N26)): one im2col of ``m x m`` windows and one product with all ``s^2`` phases
  as output columns, then one strided copy per phase into the kept window. It computes
  ``(H + m - 1)(W + m - 1)`` window positions for ``H W`` inputs, so it pays when the
  image is large next to the kernel (:func:`gather_pays`); no large intermediate.

:func:`conv_transpose` picks between them; the loop references are
:func:`refmem.nn.layers.conv_reference.conv2d_naive` (its adjoint) and
:func:`~refmem.nn.layers.conv_reference.conv_transpose_naive`.
"""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from refmem.nn.layers.im2col import im2col

__all__ = ["conv_transpose", "conv_transpose_scatter", "conv_transpose_gather", "gather_pays",
           "GATHER_OVERHEAD", "FEW_CHANNELS"]

#: the gather form is used when its extra window positions cost at most this factor
#: ((H + m - 1)(W + m - 1) / (H W)); measured break-even near 1.25 for the paper's layers
GATHER_OVERHEAD = 1.2
#: below this many output channels the scatter runs channels-first (longer inner loops)
FEW_CHANNELS = 8


def gather_pays(in_hw: Tuple[int, int], kernel_hw: Tuple[int, int], strides: Tuple[int, int],
                out_channels: int) -> bool:
    """Whether :func:`conv_transpose_gather` applies and is expected to be faster.

    It applies when every kernel size is a multiple of its stride (and some stride is
    > 1); it pays when the ``(H + m - 1)(W + m - 1)`` window positions exceed the ``H W``
    input pixels by at most :data:`GATHER_OVERHEAD` and the output has at least
    :data:`FEW_CHANNELS` channels (its phase copies run along them).
    """
    (h, w), (kh, kw), (sh, sw) = in_hw, kernel_hw, strides
    if kh % sh or kw % sw or (sh, sw) == (1, 1) or out_channels < FEW_CHANNELS:
        return False
    mh, mw = kh // sh, kw // sw
    return (h + mh - 1) * (w + mw - 1) <= GATHER_OVERHEAD * h * w


def conv_transpose(x: np.ndarray, kernel: np.ndarray, strides: Tuple[int, int],
                   origin: Tuple[int, int], out_hw: Tuple[int, int],
                   bias: Optional[np.ndarray] = None, method: Optional[str] = None) -> np.ndarray:
    """Window ``out_hw`` at ``origin`` of the transposed convolution (N25), plus ``bias``.

    Parameters
    ----------
    x : (N, H, W, B) ndarray
    kernel : (kh, kw, A, B) ndarray
        Convolution layout (HWIO of the convolution from A to B channels).
    strides, origin, out_hw : (int, int)
        ``y[n, i, j] = Y[n, origin_h + i, origin_w + j]`` for ``i < out_h``, ``j < out_w``.
    bias : (A,) ndarray, optional
        Added to every kept pixel.
    method : {None, 'scatter', 'gather'}
        None: 'gather' when :func:`gather_pays`, else 'scatter'.

    Returns
    -------
    y : (N, out_h, out_w, A) ndarray, C-contiguous
    """
    kh, kw, a, _ = kernel.shape
    if method is None:
        method = "gather" if gather_pays(x.shape[1:3], (kh, kw), strides, a) else "scatter"
    if method == "gather":
        return conv_transpose_gather(x, kernel, strides, origin, out_hw, bias)
    if method != "scatter":
        raise ValueError(f"method must be None, 'scatter' or 'gather', got {method!r}")
    return conv_transpose_scatter(x, kernel, strides, origin, out_hw, bias)


def _tap_slices(e: int, s: int, n_in: int, n_q: int):
    """Input rows ``ii`` and phase rows ``I`` of one tap at offset ``e = a - origin``.

    Output row ``i = s ii + e = s I + r`` with ``r = e mod s``, ``I = ii + d``,
    ``d = (e - r) / s``; kept are ``0 <= ii < n_in`` with ``0 <= I < n_q``.
    """
    r = e % s
    d = (e - r) // s
    lo, hi = max(0, -d), min(n_in, n_q - d)
    return r, slice(lo, max(lo, hi)), slice(lo + d, max(lo, hi) + d)


def conv_transpose_scatter(x, kernel, strides, origin, out_hw, bias=None) -> np.ndarray:
    """(N25) as ``cols = x W^T`` (one product) then a scatter-add of each tap, Eq. (N11)/(N20).

    Arguments as :func:`conv_transpose`. The taps are added straight into the kept
    window, laid out by output phase: ``(N, H_q, s_h, W_q, s_w, A)`` (which *is* NHWC) or,
    with fewer than :data:`FEW_CHANNELS` output channels, channels-first
    ``(s_h, s_w, A, N, H_q, W_q)`` so the adds run along image rows.
    """
    n, h, w, b = x.shape
    kh, kw, a, _ = kernel.shape
    (sh, sw), (oh, ow), (ho, wo) = strides, origin, out_hw
    hq, wq = -(-ho // sh), -(-wo // sw)  # phase rows/columns covering the window
    x2 = x.reshape(n * h * w, b)
    k2 = kernel.reshape(kh * kw * a, b)
    if a < FEW_CHANNELS:  # cols^T = W x^T; phase planes (s_h, s_w, A, N, H_q, W_q)
        cols_t = np.matmul(k2, x2.T).reshape(kh, kw, a, n, h, w)
        yt = np.empty((sh, sw, a, n, hq, wq), x.dtype)
        yt[...] = 0 if bias is None else bias[:, None, None, None]
        for ta in range(kh):
            r, rin, rout = _tap_slices(ta - oh, sh, h, hq)
            for tb in range(kw):
                q, cin, cout = _tap_slices(tb - ow, sw, w, wq)
                yt[r, q, :, :, rout, cout] += cols_t[ta, tb, :, :, rin, cin]  # Y[s i + a, s j + b] += W[a, b] x[i, j]
        full = yt.transpose(3, 4, 0, 5, 1, 2).reshape(n, hq * sh, wq * sw, a)  # NHWC
        return np.ascontiguousarray(full[:, :ho, :wo])
    cols = np.matmul(x2, k2.T).reshape(n, h, w, kh, kw, a)  # cols = x W^T
    y6 = np.empty((n, hq, sh, wq, sw, a), x.dtype)
    y6[...] = 0 if bias is None else bias
    for ta in range(kh):
        r, rin, rout = _tap_slices(ta - oh, sh, h, hq)
        for tb in range(kw):
            q, cin, cout = _tap_slices(tb - ow, sw, w, wq)
            y6[:, rout, r, cout, q, :] += cols[:, rin, cin, ta, tb, :]  # Y[s i + a, s j + b] += cols[i, j, a, b]
    y = y6.reshape(n, hq * sh, wq * sw, a)
    return y if (hq * sh, wq * sw) == (ho, wo) else np.ascontiguousarray(y[:, :ho, :wo])


def gather_kernel(kernel: np.ndarray, strides: Tuple[int, int]) -> np.ndarray:
    """Kernel matrix of the gather form, Eq. (N26).

    ``G[(t, v, B), (r, r', A)] = W[s_h (m_h - 1 - t) + r, s_w (m_w - 1 - v) + r', A, B]``,
    shape ``(m_h m_w B, s_h s_w A)``.
    """
    kh, kw, a, b = kernel.shape
    sh, sw = strides
    mh, mw = kh // sh, kw // sw
    g = kernel.reshape(mh, sh, mw, sw, a, b)[::-1, :, ::-1]  # (t, r, v, r', A, B), t = m - 1 - q
    return np.ascontiguousarray(g.transpose(0, 2, 5, 1, 3, 4)).reshape(mh * mw * b, sh * sw * a)


def conv_transpose_gather(x, kernel, strides, origin, out_hw, bias=None) -> np.ndarray:
    """(N25) by stride phases, Eq. (N26); needs ``kh % sh == kw % sw == 0``.

    Arguments as :func:`conv_transpose`.
    """
    n, h, w, b = x.shape
    kh, kw, a, _ = kernel.shape
    (sh, sw), (oh, ow), (ho, wo) = strides, origin, out_hw
    if kh % sh or kw % sw:
        raise ValueError(f"the gather form needs kernel sizes divisible by the strides, "
                         f"got kernel {(kh, kw)}, strides {strides}")
    mh, mw = kh // sh, kw // sw
    hs, ws = h + mh - 1, w + mw - 1  # window positions = phase rows/columns of Y
    xp = np.zeros((n, h + 2 * (mh - 1), w + 2 * (mw - 1), b), x.dtype)
    xp[:, mh - 1:mh - 1 + h, mw - 1:mw - 1 + w, :] = x
    cols = im2col(xp, (mh, mw), (1, 1), (hs, ws)).reshape(n * hs * ws, mh * mw * b)
    ys = np.matmul(cols, gather_kernel(kernel, strides)).reshape(n, hs, ws, sh, sw, a)
    covered = oh + ho <= sh * hs and ow + wo <= sw * ws
    y = (np.empty if covered else np.zeros)((n, ho, wo, a), x.dtype)
    for r in range(sh):
        i0 = (r - oh) % sh  # first kept row of phase r: (oh + i0) % sh == r
        i_n = min(len(range(i0, ho, sh)), hs - (oh + i0) // sh)
        for q in range(sw):
            j0 = (q - ow) % sw
            j_n = min(len(range(j0, wo, sw)), ws - (ow + j0) // sw)
            if i_n <= 0 or j_n <= 0:
                continue
            i1, j1 = (oh + i0) // sh, (ow + j0) // sw
            src = ys[:, i1:i1 + i_n, j1:j1 + j_n, r, q, :]  # Y[s I + r, s J + q]
            dst = y[:, i0:i0 + sh * (i_n - 1) + 1:sh, j0:j0 + sw * (j_n - 1) + 1:sw, :]
            if bias is None:
                np.copyto(dst, src)
            else:
                np.add(src, bias, out=dst)
    if bias is not None and not covered:  # pixels outside Y (zero) still get the bias
        rows, cols_in = max(0, min(ho, sh * hs - oh)), max(0, min(wo, sw * ws - ow))
        y[:, rows:, :, :] += bias
        y[:, :rows, cols_in:, :] += bias
    return y
