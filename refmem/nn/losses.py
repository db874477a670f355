"""VAE loss terms and the reparameterisation trick, each with its gradient.

The negative evidence lower bound (ELBO) of Kingma & Welling [1]_, Eq. (10), is
minimised as ``recon + kl_weight * KL``. The reconstruction term is the paper's
L1 loss *as run* (docs/paper-experiments.md, 1.5), mean binary cross-entropy for the DRM
text VAE (docs/paper-experiments.md, E15), or MSE; the KL term is the closed form of [1]_,
Appendix B. Every loss returns ``(value, gradient)`` so the VAE can back-propagate
without autodiff.

Glossary
--------
=========  ====================================================
symbol     meaning
=========  ====================================================
``x``      target data in [0, 1], shape ``(N, ...)``
``x_hat``  decoder output, same shape as ``x``
``mu``     posterior mean μ, ``(N, L)``
``log_var``  posterior log-variance log σ², ``(N, L)``
``eps``    standard normal noise ε, ``(N, L)``
``z``      latent sample z = μ + σ ε, ``(N, L)``
=========  ====================================================

All functions preserve the caller's float dtype (float32 stays float32; integer
input becomes float64) and return Python floats for the loss values.

References
----------
.. [1] D. P. Kingma and M. Welling, "Auto-Encoding Variational Bayes", ICLR 2014.
"""
from __future__ import annotations

from typing import Tuple

import numpy as np

from refmem._utils import as_rng, check_float_array

__all__ = ["recon_l1_channel_mean", "bce_mean", "mse", "kl_normal", "reparameterize",
           "BCE_EPSILON"]

#: Keras ``backend.epsilon()``: predictions are clipped to [BCE_EPSILON, 1 - BCE_EPSILON]
#: and BCE_EPSILON is added inside the logarithms of :func:`bce_mean`.
BCE_EPSILON = 1e-7


def _pair(x, x_hat) -> Tuple[np.ndarray, np.ndarray]:
    """Validate a (target, prediction) pair of equal shape ``(N, ...)`` and common dtype."""
    x_hat = check_float_array(x_hat, "x_hat", min_size=1)
    if x_hat.ndim < 2:
        raise ValueError(f"x_hat must have shape (N, ...) with a batch axis, got {x_hat.shape}")
    x = check_float_array(x, "x", shape=x_hat.shape)
    return x.astype(x_hat.dtype, copy=False), x_hat


def recon_l1_channel_mean(x, x_hat) -> Tuple[float, np.ndarray]:
    """The paper's reconstruction loss: batch mean of Σ_pixels mean_channels |x - x̂|.

    Parameters
    ----------
    x : (N, H, W, C) or (N, D) ndarray
        Targets. For rank-4 (NHWC) input the channel axis is the last one; for any
        other rank there is no channel axis (C = 1: every element is a "pixel").
    x_hat : ndarray, same shape as ``x``
        Reconstructions (decoder output from the sampled z during training).

    Returns
    -------
    loss : float
        ``(1 / (N C)) Σ |x - x̂|`` (docs/paper-experiments.md, 1.5: sum over 4,096 pixel positions of the
        mean over 3 channels, averaged over the batch).
    d_x_hat : ndarray, same shape and dtype as ``x_hat``
        ``sign(x̂ - x) / (N C)``; the subgradient at x̂ = x is taken as 0.
    """
    x, x_hat = _pair(x, x_hat)
    n = x_hat.shape[0]
    c = x_hat.shape[-1] if x_hat.ndim == 4 else 1
    diff = x_hat - x
    loss = _finite_loss(float(np.abs(diff).sum(dtype=np.float64)) / (n * c),
                        "recon_l1_channel_mean")  # (V5) L = 1/(N C) Σ |x - x̂|
    d_x_hat = np.sign(diff) * x_hat.dtype.type(1.0 / (n * c))  # dL/dx̂ = sign(x̂ - x)/(N C)
    return loss, d_x_hat.astype(x_hat.dtype, copy=False)


def bce_mean(x, x_hat) -> Tuple[float, np.ndarray]:
    """Mean binary cross-entropy over all elements, exactly as Keras computes it from
    probabilities (``keras.backend.binary_crossentropy``, TF 2.x).

    Parameters
    ----------
    x : (N, D) ndarray
        Binary (or [0, 1]) targets.
    x_hat : (N, D) ndarray
        Predicted probabilities; clipped to ``[ε, 1 - ε]``, ``ε = 1e-7``, and ε is added
        again inside each logarithm, as Keras does.

    Returns
    -------
    loss : float
        ``-mean[x log(p + ε) + (1 - x) log(1 - p + ε)]`` with ``p = clip(x̂, ε, 1 - ε)``
        (the mean over the vocabulary and the batch; docs/paper-experiments.md, E15).
    d_x_hat : ndarray, same shape and dtype as ``x_hat``
        ``[(1 - x) / (1 - p + ε) - x / (p + ε)] / (N D)`` where ``x̂`` lies inside the
        clip range and 0 where it was clipped (``clip`` has zero derivative there, as in
        TF).

    Notes
    -----
    Keras switches to the logits form ``sigmoid_cross_entropy_with_logits`` when the
    prediction tensor carries the logits of a sigmoid layer; this function is the
    probability form (see ``docs/neocortex.md``).
    """
    x, x_hat = _pair(x, x_hat)
    eps = x_hat.dtype.type(BCE_EPSILON)
    p = np.clip(x_hat, eps, 1 - eps)
    size = x_hat.size
    ll = x * np.log(p + eps) + (1.0 - x) * np.log(1 - p + eps)  # Keras: log(p + ε), log(1 - p + ε)
    # (V6) L = -mean[x log(p+ε) + (1-x) log(1-p+ε)]
    loss = _finite_loss(-float(ll.sum(dtype=np.float64)) / size, "bce_mean")
    inside = (x_hat >= eps) & (x_hat <= 1 - eps)
    grad = (1.0 - x) / (1 - p + eps) - x / (p + eps)  # dL/dp (times size)
    d_x_hat = np.where(inside, grad, 0.0) / size  # 0 where clipped
    return loss, d_x_hat.astype(x_hat.dtype, copy=False)


def mse(x, x_hat) -> Tuple[float, np.ndarray]:
    """Mean squared error over all elements.

    Parameters
    ----------
    x, x_hat : (N, ...) ndarray
        Targets and predictions of equal shape.

    Returns
    -------
    loss : float
        ``mean((x̂ - x)^2)``.
    d_x_hat : ndarray, same shape and dtype as ``x_hat``
        ``2 (x̂ - x) / size``.
    """
    x, x_hat = _pair(x, x_hat)
    diff = x_hat - x
    loss = _finite_loss(float(np.square(diff).sum(dtype=np.float64)) / diff.size, "mse")  # (V7) mean (x̂ - x)^2
    return loss, (diff * x_hat.dtype.type(2.0 / diff.size)).astype(x_hat.dtype, copy=False)


def _finite_loss(loss: float, name: str) -> float:
    if not np.isfinite(loss):
        raise ValueError(f"{name} overflows: the inputs are too large for {name}'s squares or sums")
    return loss


def _check_gaussian(mu, log_var) -> Tuple[np.ndarray, np.ndarray]:
    mu = check_float_array(mu, "mu", shape=(None, None), min_size=1)  # (N, L)
    log_var = check_float_array(log_var, "log_var", shape=mu.shape)
    log_var = log_var.astype(mu.dtype, copy=False)
    limit = np.log(np.finfo(mu.dtype).max)  # exp(log σ²) must stay finite
    if log_var.max() > limit:
        raise ValueError(f"log_var must be <= {limit:.1f} in {mu.dtype.name} (exp(log_var) overflows beyond), "
                         f"got max {log_var.max():.3g}")
    return mu, log_var


def kl_normal(mu, log_var, reduction: str = "sum") -> Tuple[float, np.ndarray, np.ndarray]:
    """KL(N(μ, diag σ²) || N(0, I)) in closed form, Appendix B of [1]_.

    .. math:: \\mathrm{KL} = -\\tfrac12 \\sum_j (1 + \\log\\sigma_j^2 - \\mu_j^2 - \\sigma_j^2)

    Parameters
    ----------
    mu : (N, L) ndarray
        Posterior means μ.
    log_var : (N, L) ndarray
        Posterior log-variances log σ².
    reduction : {"sum", "mean"}
        ``"sum"``: summed over the L latents, then averaged over the batch (the
        Shapes3D/MNIST VAEs, weight 1, docs/paper-experiments.md, 1.5). ``"mean"``: averaged over
        latents *and* batch (the DRM text VAE, weight 1e-3, docs/paper-experiments.md, E15).

    Returns
    -------
    kl : float
        The reduced KL divergence (always >= 0).
    d_mu : (N, L) ndarray
        ``μ / s`` with ``s = N`` ("sum") or ``N L`` ("mean").
    d_log_var : (N, L) ndarray
        ``(exp(log σ²) - 1) / (2 s)``.
    """
    mu, log_var = _check_gaussian(mu, log_var)
    if reduction == "sum":
        scale = mu.shape[0]
    elif reduction == "mean":
        scale = mu.size
    else:
        raise ValueError(f"reduction must be 'sum' or 'mean', got {reduction!r}")
    var = np.exp(log_var)
    terms = 1.0 + log_var - np.square(mu) - var  # (V3) KL = -1/2 Σ_j (1 + log σ² - μ² - σ²)
    kl = _finite_loss(-0.5 * float(terms.sum(dtype=np.float64)) / scale, "kl_normal")
    inv = mu.dtype.type(1.0 / scale)
    d_mu = mu * inv  # (V4) dKL/dμ = μ / s
    d_log_var = (var - 1.0) * mu.dtype.type(0.5 / scale)  # dKL/dlog σ² = (σ² - 1) / (2 s)
    return kl, d_mu, d_log_var.astype(mu.dtype, copy=False)


def reparameterize(mu, log_var, eps=None, rng=None) -> Tuple[np.ndarray, np.ndarray]:
    """Reparameterised sample z = μ + exp(log σ² / 2) ε, Eq. (10) of [1]_.

    Parameters
    ----------
    mu : (N, L) ndarray
        Posterior means μ.
    log_var : (N, L) ndarray
        Posterior log-variances log σ² (note: the *standard deviation* exp(log σ²/2)
        scales ε, not the variance).
    eps : (N, L) ndarray, optional
        Standard normal noise ε; injected for gradient checks and cross-checks.
        Drawn from ``rng`` when omitted.
    rng : None, int or numpy.random.Generator, optional
        Source of ε when ``eps`` is None.

    Returns
    -------
    z : (N, L) ndarray of mu's dtype
        The sample.
    eps : (N, L) ndarray of mu's dtype
        The noise used (needed by the backward pass: dz/dlog σ² = ε σ / 2).
    """
    mu, log_var = _check_gaussian(mu, log_var)
    if eps is None:
        eps = as_rng(rng).standard_normal(mu.shape).astype(mu.dtype)
    else:
        eps = check_float_array(eps, "eps", shape=mu.shape).astype(mu.dtype, copy=False)
    z = mu + np.exp(0.5 * log_var) * eps  # (V2) z = μ + σ ⊙ ε, σ = exp(log σ² / 2)
    return z, eps
