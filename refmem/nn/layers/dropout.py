"""Dropout in the paper's two modes (Eq. (N19) of ``docs/layers.md``).

``mode="as_run"`` (default): identity, always (the paper's Keras code called the model
in inference mode, docs/paper-experiments.md, 1.7). ``mode="batch"``: inverted dropout when
``train=True``, ``y = x * keep / (1 - rate)`` with ``keep ~ Bernoulli(1 - rate)`` drawn
from the ``rng`` passed to ``forward``; identity when ``train=False``.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import scipy.sparse

from refmem._utils import as_rng
from refmem.nn.layers.base import Layer
from refmem.nn.layers._checks import check_dy, check_rate, check_shape_arg

__all__ = ["Dropout"]


class Dropout(Layer):
    """Dropout with ``mode`` 'as_run' (identity) or 'batch' (inverted dropout in training).

    Parameters
    ----------
    shape : tuple of int
        Per-example shape.
    rate : float in [0, 1)
        Drop probability.
    mode : {'as_run', 'batch'}, default 'as_run'
    dtype : float dtype; name : str, optional
    """

    def __init__(self, shape, rate: float, mode: str = "as_run", dtype=np.float32,
                 name: Optional[str] = None):
        shape = check_shape_arg(shape, "shape")
        super().__init__(shape, shape, dtype, name or "dropout")
        if mode not in ("as_run", "batch"):
            raise ValueError(f"mode must be 'as_run' or 'batch', got {mode!r}")
        self.rate, self.mode = check_rate(rate), mode

    def forward(self, x, train=False, rng=None):
        """x : (N, *shape) -> y; ``rng`` (Generator or seed) required in batch mode with train.

        A ``scipy.sparse`` input (data, see :class:`~refmem.layers.Dense`) passes
        through unchanged where dropout is the identity; masking it is not supported.
        """
        active = self.mode == "batch" and train and self.rate > 0
        if scipy.sparse.issparse(x):
            if active:
                raise TypeError(f"{self.name}: Dropout(mode='batch') in training needs a dense input")
            if x.ndim != 2 or x.shape[1:] != self.input_shape:
                raise ValueError(f"{self.name}: expected input of shape (N, {', '.join(map(str, self.input_shape))}), "
                                 f"got sparse {x.shape}")
            return x, (x.shape[0], None)
        self._check_input(x)
        if active:
            if rng is None:
                raise ValueError(f"{self.name}: Dropout(mode='batch') with train=True needs an rng")
            keep = as_rng(rng).random(x.shape) >= self.rate  # keep ~ Bernoulli(1 - rate)
            mask = keep * self.dtype.type(1.0 / (1.0 - self.rate))  # inverted scaling
            return x * mask, (x.shape[0], mask)  # y = x keep / (1 - rate), Eq. (N19)
        return x, (x.shape[0], None)

    def backward(self, dy, cache):
        """dx = dy * mask (or dy in identity mode); None passes through (no gradient
        flows back to a sparse data input)."""
        n, mask = cache
        if dy is None:
            return None
        check_dy(self, dy, n)
        return dy if mask is None else dy * mask
