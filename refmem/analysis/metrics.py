"""Per-item and per-set error metrics of recall.

* :func:`recon_error`: the paper's reconstruction metric, mean over images
  (Σ over pixels of the channel-mean absolute error).
* :func:`per_image_error`: the same, one number per image.

:func:`recon_error` validates through the loss it evaluates; :func:`per_image_error` checks
for ``(N, H, W, C)`` arrays of equal shape.
"""
from __future__ import annotations

import numpy as np

from refmem._utils import check_float_array

from refmem.nn.losses import recon_l1_channel_mean

__all__ = ["recon_error", "per_image_error"]


def recon_error(x: np.ndarray, x_hat: np.ndarray) -> float:
    """Mean over images of Σ_pixels mean_channels |x - x_hat| (docs/paper-experiments.md, 1.5).

    Parameters
    ----------
    x, x_hat : (N, H, W, C) ndarray

    Returns
    -------
    float
        The paper's reconstruction loss ``(1 / (N C)) Σ |x - x_hat|``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.zeros((1, 2, 2, 3))
    >>> recon_error(x, x + 0.5)   # 4 pixels, each with a channel-mean error of 0.5
    2.0
    """
    return float(recon_l1_channel_mean(x, x_hat)[0])  # L = 1/(N C) Σ |x - x̂|


def per_image_error(x: np.ndarray, x_hat: np.ndarray) -> np.ndarray:
    """Per-image reconstruction error Σ_pixels mean_channels |x - x_hat|: ``(N,)`` float64.

    ``x`` and ``x_hat`` are ``(N, H, W, C)`` real arrays of equal shape (``ValueError`` or
    ``TypeError`` otherwise).
    """
    x = check_float_array(x, "x", ndim=4)
    x_hat = check_float_array(x_hat, "x_hat", shape=x.shape)
    d = np.abs(x.astype(np.float64) - x_hat.astype(np.float64))
    return d.sum(axis=(1, 2, 3)) / x.shape[-1]
