"""Keras/TensorFlow padding arithmetic for 2-D convolutions (NHWC).

TensorFlow's 'same' padding is asymmetric when the total padding is odd: the extra
row/column goes *after* (bottom/right). Every conv-type layer of :mod:`refmem.nn.layers`
computes its output length and padding through these functions, so the convention
lives in one place.
"""
from __future__ import annotations

from typing import Tuple

import numpy as np

__all__ = ["conv_output_length", "same_padding", "conv_transpose_output_length",
           "conv_padding", "normalize_pair", "normalize_padding", "pad_hw"]


#: largest kernel size or stride accepted (far beyond any image here; a larger value is a mistake)
MAX_PAIR = 4096


def normalize_pair(value, name: str) -> Tuple[int, int]:
    """Return ``(a, b)`` from an int or a pair of positive ints (kernel size, strides)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        pair = (int(value), int(value))
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value):
        pair = (int(value[0]), int(value[1]))
    else:
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < 1 or max(pair) > MAX_PAIR:
        raise ValueError(f"{name} must lie in [1, {MAX_PAIR}], got {value!r}"[:200])
    return pair


def normalize_padding(padding) -> str:
    """Return ``'same'`` or ``'valid'`` (case-insensitive), else raise ``ValueError``."""
    if not isinstance(padding, str) or padding.lower() not in ("same", "valid"):
        raise ValueError(f"padding must be 'same' or 'valid', got {padding!r}")
    return padding.lower()


def conv_output_length(n: int, k: int, s: int, padding: str) -> int:
    """Output length of a convolution along one axis, as Keras/TF.

    Parameters
    ----------
    n, k, s : int
        Input length, kernel size, stride.
    padding : {'same', 'valid'}

    Returns
    -------
    int
        ``ceil(n / s)`` for 'same'; ``floor((n - k) / s) + 1`` for 'valid'.
    """
    padding = normalize_padding(padding)
    if padding == "same":
        return -(-n // s)  # out = ceil(n / s)
    if n < k:
        raise ValueError(f"'valid' convolution needs input length >= kernel size {k}, got {n}")
    return (n - k) // s + 1  # out = floor((n - k) / s) + 1


def same_padding(n: int, k: int, s: int) -> Tuple[int, int]:
    """TensorFlow 'same' padding ``(before, after)`` along one axis.

    ``out = ceil(n / s)``, ``total = max((out - 1) * s + k - n, 0)``,
    ``before = total // 2``, ``after = total - before`` (the extra one goes after).
    """
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)  # pad_total = max((out-1)*s + k - in, 0)
    return total // 2, total - total // 2


def conv_padding(n: int, k: int, s: int, padding: str) -> Tuple[int, int]:
    """``(before, after)`` padding for 'same' (TF rule) or ``(0, 0)`` for 'valid'."""
    return same_padding(n, k, s) if normalize_padding(padding) == "same" else (0, 0)


def conv_transpose_output_length(n: int, k: int, s: int, padding: str) -> int:
    """Output length of Keras ``Conv2DTranspose`` (``output_padding=None``).

    'same': ``n * s``; 'valid': ``n * s + max(k - s, 0)`` (= ``(n - 1) * s + k`` when
    ``k >= s``), as ``keras.utils.conv_utils.deconv_output_length``.
    """
    if normalize_padding(padding) == "same":
        return n * s
    return n * s + max(k - s, 0)


def pad_hw(x: np.ndarray, ph: Tuple[int, int], pw: Tuple[int, int]) -> np.ndarray:
    """Zero-pad axes 1 and 2 of an NHWC array (returns ``x`` itself if no padding)."""
    if ph == (0, 0) and pw == (0, 0):
        return x
    n, h, w, c = x.shape
    out = np.zeros((n, h + ph[0] + ph[1], w + pw[0] + pw[1], c), dtype=x.dtype)
    out[:, ph[0]:ph[0] + h, pw[0]:pw[0] + w, :] = x
    return out
