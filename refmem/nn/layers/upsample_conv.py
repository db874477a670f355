"""Nearest-neighbour upsampling followed by a 'same' convolution, in sub-pixel form.

``UpsampleConv2D`` computes exactly ``Conv2D(k x k, stride 1, 'same')(UpSampling2D(u)(x))``
with the *same* ``kernel``/``bias`` parameters, but at low resolution. Output pixel
``p = u i + r`` (phase ``r``) reads upsampled row ``p + a - p_top`` under tap ``a``,
which is low-resolution row ``i + d_r(a)`` with ``d_r(a) = floor((r + a - p_top) / u)``.
So each of the ``u^2`` output phases is a small convolution of the low-resolution input
with the summed taps

.. math::

    K_{rc}[t, v] = \\sum_{a: d_r(a) = t} \\sum_{b: d_c(b) = v} W[a, b]

(Eq. (N23) of ``docs/layers.md``); for ``k = 3, u = 2`` every phase is a 2x2 convolution,
``d_0 = (-1, 0, 0)`` and ``d_1 = (0, 0, 1)``: 16 instead of 36 taps per low-resolution
pixel (2.25x fewer FLOPs).

Implementation: the 16 (phase, tap) pairs are "groups" ``g``, each with a low-resolution
shift ``(dr, dc)`` and a ``(C, F)`` matrix ``K_g``. One matrix product computes every
group's product ``Z_g = x K_g`` at every low-resolution pixel, and each output phase adds
its four groups' shifted ``Z_g`` (no im2col copies). Backward (Eq. (N24)) is the adjoint:
``dZ_g`` is the phase's ``dy`` shifted back, ``dK_g = x^T dZ_g``, ``dx = sum_g dZ_g K_g^T``
(one product each) and ``dW[a, b] = sum_{g uses tap (a, b)} dK_g``.
"""
from __future__ import annotations

from typing import List, Optional, Tuple

import numpy as np

from refmem.nn.layers.base import Layer
from refmem.nn.layers._checks import check_dy, check_shape_arg
from refmem.nn.layers.initializers import glorot_uniform
from refmem.nn.layers.padding import normalize_pair, normalize_padding, same_padding

__all__ = ["UpsampleConv2D", "phase_tap_matrices"]


def phase_tap_matrices(k: int, u: int) -> Tuple[List[np.ndarray], List[int], Tuple[int, int]]:
    """Tap-summing matrices of the sub-pixel form along one axis, Eq. (N23).

    Parameters
    ----------
    k : int
        Kernel size; the convolution is stride 1, 'same' on the upsampled axis.
    u : int
        Upsampling factor.

    Returns
    -------
    mats : list of u (T_r, k) ndarrays
        ``mats[r][t, a] = 1`` iff tap ``a`` of phase ``r`` reads low-resolution offset
        ``offsets[r] + t``.
    offsets : list of int
        Smallest low-resolution offset of each phase.
    pad : (int, int)
        Low-resolution zero padding ``(before, after)`` covering every phase.
    """
    top = same_padding(u, k, 1)[0]  # = (k - 1) // 2, independent of the length
    mats, offsets = [], []
    for r in range(u):
        d = [(r + a - top) // u for a in range(k)]  # d_r(a) = floor((r + a - p_top) / u)
        lo, hi = min(d), max(d)
        m = np.zeros((hi - lo + 1, k))
        m[np.array(d) - lo, np.arange(k)] = 1.0
        mats.append(m)
        offsets.append(lo)
    pad = (max(0, -min(offsets)), max(0, max(o + m.shape[0] - 1 for o, m in zip(offsets, mats))))
    return mats, offsets, pad


def _shift_slices(n: int, d: int):
    """Slices ``(out, in)`` with ``out[i] <- in[i + d]`` for all ``i`` with ``0 <= i + d < n``."""
    lo, size = max(0, -d), max(0, n - abs(d))
    return slice(lo, lo + size), slice(lo + d, lo + d + size)


class UpsampleConv2D(Layer):
    """``UpSampling2D(size)`` then ``Conv2D(filters, kernel_size, padding='same')``, fused.

    Same parameters (``kernel`` HWIO ``(k, k, C, filters)``, ``bias``), same output
    (to rounding) as the two-layer composition, computed per output phase at low
    resolution (Eq. (N23)).

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
        self._rows = phase_tap_matrices(kh, uh)
        self._cols = phase_tap_matrices(kw, uw)
        # one group per (output phase r, q; phase tap t, v): its low-res shift and tap rows
        groups, rows, cols = [], [], []
        (mr, offr, _), (mc, offc, _) = self._rows, self._cols
        for r in range(uh):
            for q in range(uw):
                # the zero-shift group (if any) first: it initialises the phase's output
                taps = sorted(((t, v) for t in range(mr[r].shape[0]) for v in range(mc[q].shape[0])),
                              key=lambda tv: (offr[r] + tv[0], offc[q] + tv[1]) != (0, 0))
                for t, v in taps:
                    groups.append((r, q, offr[r] + t, offc[q] + v))
                    rows.append(mr[r][t])
                    cols.append(mc[q][v])
        self._groups = groups
        # phase -> its zero-shift group, which always exists: tap a = p_top has
        # d_r(p_top) = floor(r / u) = 0; it covers every pixel, so it initialises y_rq
        self._first = {(r, q): g for g, (r, q, dr, dc) in enumerate(groups) if (dr, dc) == (0, 0)}
        if len(self._first) != uh * uw:  # internal invariant (not user input)
            raise RuntimeError(f"sub-pixel decomposition lost a phase: {sorted(self._first)}")
        # _tap_sum[g, a * kw + b] = 1 iff tap (a, b) of the k x k kernel feeds group g
        self._tap_sum = np.einsum("ga,gb->gab", np.array(rows), np.array(cols)).reshape(
            len(groups), kh * kw).astype(self.dtype)
        self._channels_first = filters < w  # few output channels: run along image rows
        self._add_param("kernel", glorot_uniform((kh, kw, c, filters), rng, self.dtype))
        if self.use_bias:
            self._add_param("bias", np.zeros(filters, self.dtype))

    def _tap_kernel(self, kernel):
        """``(G, C)`` stacked phase-tap kernels, rows ``(g, f)``: ``K_rq[t, v, :, f]``, Eq. (N23)."""
        kh, kw, c, f = kernel.shape
        wfc = kernel.transpose(0, 1, 3, 2).reshape(kh * kw, f * c)
        return np.matmul(self._tap_sum, wfc).reshape(-1, c)  # K_rq[t, v] = sum of taps W[a, b]

    def forward(self, x, train=False, rng=None):
        """``(N, H, W, C) -> (N, uH, uW, filters)`` by Eq. (N23); returns ``(y, cache)``.

        One matrix product gives every group's tap product ``Z_g = K_g^T x`` at every
        low-resolution pixel; each output phase then adds its groups' shifted ``Z_g``.
        Layout: NHWC, or channels-first when ``filters < W`` (longer inner loops).
        """
        self._check_input(x)
        n, h, w, c = x.shape
        (uh, uw), f, ng = self.size, self.filters, len(self._groups)
        x2 = x.reshape(n * h * w, c)
        wt = self._tap_kernel(self.params["kernel"])
        bias = self.params["bias"] if self.use_bias else np.zeros(f, self.dtype)
        if self._channels_first:
            zt = np.matmul(wt, x2.T).reshape(ng, f, n, h, w)  # Z_g = K_g^T x
            yt = np.empty((uh, uw, f, n, h, w), self.dtype)
            for g, (r, q, dr, dc) in enumerate(self._groups):
                (yr, zr), (yc, zc) = _shift_slices(h, dr), _shift_slices(w, dc)
                if self._first[r, q] == g:  # zero shift, first of its phase: y_rq = Z_g + b
                    np.add(zt[g], bias[:, None, None, None], out=yt[r, q])
                else:
                    yt[r, q, :, :, yr, yc] += zt[g, :, :, zr, zc]  # y_rq[i, j] += Z_g[i + dr, j + dc]
            y = np.ascontiguousarray(yt.transpose(3, 4, 0, 5, 1, 2))  # y[n, u i + r, u j + q, f]
        else:
            z = np.matmul(x2, wt.T).reshape(n, h, w, ng, f)  # Z_g = K_g^T x
            y = np.empty((n, h, uh, w, uw, f), self.dtype)
            for g, (r, q, dr, dc) in enumerate(self._groups):
                (yr, zr), (yc, zc) = _shift_slices(h, dr), _shift_slices(w, dc)
                if self._first[r, q] == g:  # zero shift, first of its phase: y_rq = Z_g + b
                    np.add(z[:, :, :, g, :], bias, out=y[:, :, r, :, q, :])
                else:
                    y[:, yr, r, yc, q, :] += z[:, zr, zc, g, :]  # y_rq[i, j] += Z_g[i + dr, j + dc]
        return y.reshape(n, uh * h, uw * w, f), (x2, wt, n)

    def backward(self, dy, cache):
        """Return dx; accumulate ``grads['kernel']`` and ``grads['bias']``, Eq. (N24).

        ``dZ_g[i + dr, j + dc] = dy_rq[i, j]``; ``dK_g = sum dZ_g x^T``;
        ``dx = sum_g K_g dZ_g``; ``dW[a, b] = sum_{groups using tap (a, b)} dK_g``.
        """
        x2, wt, n = cache
        check_dy(self, dy, n)
        h, w, c = self.input_shape
        (uh, uw), f, ng = self.size, self.filters, len(self._groups)
        dy6 = dy.reshape(n, h, uh, w, uw, f)
        if self._channels_first:
            dyt = np.ascontiguousarray(dy6.transpose(2, 4, 5, 0, 1, 3))
            dzt = np.zeros((ng, f, n, h, w), self.dtype)
            for g, (r, q, dr, dc) in enumerate(self._groups):
                (yr, zr), (yc, zc) = _shift_slices(h, dr), _shift_slices(w, dc)
                dzt[g, :, :, zr, zc] = dyt[r, q, :, :, yr, yc]  # dZ_g[i + dr, j + dc] = dy_rq[i, j]
            dz2t = dzt.reshape(ng * f, n * h * w)
            dwt = np.matmul(dz2t, x2)  # dK_g = sum_pixels dZ_g x^T
            dx = np.matmul(dz2t.T, wt)  # dx = sum_g K_g dZ_g
        else:
            dz = np.zeros((n, h, w, ng, f), self.dtype)
            for g, (r, q, dr, dc) in enumerate(self._groups):
                (yr, zr), (yc, zc) = _shift_slices(h, dr), _shift_slices(w, dc)
                dz[:, zr, zc, g, :] = dy6[:, yr, r, yc, q, :]  # dZ_g[i + dr, j + dc] = dy_rq[i, j]
            dz2 = dz.reshape(n * h * w, ng * f)
            dwt = np.matmul(dz2.T, x2)  # dK_g = sum_pixels dZ_g x^T
            dx = np.matmul(dz2, wt)  # dx = sum_g K_g dZ_g
        kh, kw = self.kernel_size
        dw = np.matmul(self._tap_sum.T, dwt.reshape(ng, f * c))  # dW[a, b] = sum dK_rq
        self.grads["kernel"] += dw.reshape(kh, kw, f, c).transpose(0, 1, 3, 2)
        if self.use_bias:
            dy2 = dy.reshape(-1, f)
            self.grads["bias"] += np.matmul(np.ones(dy2.shape[0], self.dtype), dy2)  # db = sum dy
        return dx.reshape((n,) + self.input_shape)
