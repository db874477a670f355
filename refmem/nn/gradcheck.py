"""Gradient checking: numerical vector-Jacobian products and random-direction checks.

Used by the tests of :mod:`refmem.nn.layers` and of the VAE, and by users who want to
cross-check a gradient. All checks are meant for float64.

* :func:`numerical_vjp`: central differences of ``<f(x), dy>``, Eq. (N14) of
  ``docs/layers.md``: ``(dx)_i ~ sum((f(x + h e_i) - f(x - h e_i)) * dy) / (2 h)``.
* :func:`check_layer`: a layer's analytic ``dx`` and parameter gradients (with a random
  upstream gradient) against :func:`numerical_vjp`.
* :func:`random_direction_check`: directional derivative of a scalar loss along a random
  unit direction ``d`` (over a dict of arrays), ``(L(p + h d) - L(p - h d)) / (2 h)``,
  against ``<grad, d>`` (Eq. (N15)).
"""
from __future__ import annotations

from typing import Callable, Dict, Mapping, Optional

import numpy as np

from refmem._utils import as_rng, check_float_array, check_positive

__all__ = ["rel_error", "numerical_vjp", "check_layer", "random_direction_check"]


def rel_error(a, b) -> float:
    """Maximum element-wise relative error ``|a - b| / max(|a| + |b|, 1e-8)``.

    Parameters
    ----------
    a, b : array_like of the same shape (scalars allowed)

    Returns
    -------
    float
        0.0 for two empty arrays.
    """
    a = check_float_array(a, "a", finite=False)
    b = check_float_array(b, "b", finite=False)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    a, b = a.astype(np.float64), b.astype(np.float64)
    err = np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8)
    if np.isnan(err).any():
        raise ValueError("rel_error: NaN in the inputs")
    return float(err.max())


def numerical_vjp(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, dy: np.ndarray,
                  h: float = 1e-6) -> np.ndarray:
    """Numerical vector-Jacobian product ``J_f(x)^T dy`` by central differences, Eq. (N14).

    Parameters
    ----------
    f : callable
        ``f(x) -> ndarray`` of the shape of ``dy``. ``x`` is perturbed in place, one
        element at a time, and restored before returning.
    x : (...) ndarray of float
    dy : (...) ndarray
        Upstream gradient (shape of ``f(x)``).
    h : float, default 1e-6

    Returns
    -------
    (...) ndarray
        Shape and dtype of ``x``:
        ``g_i = sum((f(x + h e_i) - f(x - h e_i)) * dy) / (2 h)``.
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(f"x must be a float ndarray (perturbed in place), got {type(x).__name__}")
    h = check_positive(h, "h")
    dy = np.asarray(dy)
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        fp = np.array(f(x), dtype=np.float64, copy=True)
        x[i] = old - h
        fm = np.array(f(x), dtype=np.float64, copy=True)
        x[i] = old
        if fp.shape != dy.shape:
            raise ValueError(f"f(x) has shape {fp.shape} but dy has shape {dy.shape}")
        grad[i] = np.sum((fp - fm) * dy) / (2 * h)  # g_i = <f(x + h e_i) - f(x - h e_i), dy> / 2h
    return grad


def check_layer(layer, x: np.ndarray, rng=None, h: float = 1e-6, train: bool = False,
                forward_rng_seed: Optional[int] = None) -> Dict[str, float]:
    """Compare a layer's backward with central differences (random upstream gradient).

    Parameters
    ----------
    layer : refmem.nn.layers.Layer
        Its ``grads`` are zeroed before and after the check; ``params`` are perturbed
        in place and restored; ``buffers`` are restored after every forward (batch-norm
        moving statistics are not changed by the check).
    x : (N, *layer.input_shape) ndarray
        Not modified.
    rng : seed or Generator
        Draws the upstream gradient ``dy ~ N(0, 1)``.
    h : float, default 1e-6
    train : bool, default False
        Passed to ``forward``.
    forward_rng_seed : int, optional
        If given, every forward gets ``np.random.default_rng(forward_rng_seed)`` (so a
        stochastic layer, e.g. dropout in batch mode, is a fixed function).

    Returns
    -------
    dict of str -> float
        ``{"x": rel_error(dx), "<param>": rel_error(dparam), ...}``.
    """
    rng = as_rng(rng)
    saved_buffers = {k: v.copy() for k, v in layer.buffers.items()}

    def fwd(inp):
        frng = None if forward_rng_seed is None else np.random.default_rng(forward_rng_seed)
        y, cache = layer.forward(inp, train=train, rng=frng)
        for k, v in saved_buffers.items():
            layer.buffers[k][...] = v
        return y, cache

    x = np.array(x, copy=True)
    y, cache = fwd(x)
    dy = rng.standard_normal(y.shape).astype(y.dtype)
    layer.zero_grad()
    dx = layer.backward(dy, cache)
    analytic = {k: g.copy() for k, g in layer.grads.items()}
    layer.zero_grad()
    out = {"x": rel_error(dx, numerical_vjp(lambda z: fwd(z)[0], x, dy, h))}
    for k, p in layer.params.items():
        out[k] = rel_error(analytic[k], numerical_vjp(lambda _p: fwd(x)[0], p, dy, h))
    return out


def random_direction_check(loss_fn: Callable[[], float], params: Mapping[str, np.ndarray],
                           grads: Mapping[str, np.ndarray], rng=None, h: float = 1e-6) -> Dict[str, float]:
    """Directional-derivative check of a scalar loss over a dict of arrays, Eq. (N15).

    Draws a random direction ``d`` (one array per key, standard normal, normalised to
    unit total norm) and compares ``(L(p + h d) - L(p - h d)) / (2 h)`` with
    ``<grads, d> = sum_k sum(grads[k] * d[k])``.

    Parameters
    ----------
    loss_fn : callable
        ``loss_fn() -> float``: evaluates the loss with the *current* contents of the
        ``params`` arrays (no arguments). The checker perturbs ``params[k]`` **in
        place** (``+= h d[k]``) and restores them exactly afterwards (also on error).
    params : mapping str -> float ndarray
        The arrays the loss reads (e.g. ``model.params``).
    grads : mapping str -> ndarray
        Analytic gradient of the loss at the unperturbed params; same keys/shapes.
    rng : seed or Generator
    h : float, default 1e-6

    Returns
    -------
    dict
        ``{"numerical": float, "analytic": float, "rel_error": float}``.
    """
    rng = as_rng(rng)
    h = check_positive(h, "h")
    if set(params) != set(grads):
        raise ValueError(f"params and grads must have the same keys, got {sorted(params)} and {sorted(grads)}")
    for k in params:
        if not isinstance(params[k], np.ndarray) or params[k].dtype.kind != "f":
            raise TypeError(f"params[{k!r}] must be a float ndarray (it is perturbed in place)")
        if np.shape(grads[k]) != params[k].shape:
            raise ValueError(f"grads[{k!r}] must have shape {params[k].shape}, got {np.shape(grads[k])}")
    d = {k: rng.standard_normal(params[k].shape) for k in params}
    norm = np.sqrt(sum(float(np.sum(v * v)) for v in d.values()))
    if norm == 0:
        raise ValueError("params are empty: nothing to check")
    d = {k: v / norm for k, v in d.items()}
    saved = {k: params[k].copy() for k in params}
    try:
        for k in params:
            params[k] += (h * d[k]).astype(params[k].dtype)
        lp = float(loss_fn())
        for k in params:
            params[k][...] = saved[k] - (h * d[k]).astype(params[k].dtype)
        lm = float(loss_fn())
    finally:
        for k in params:
            params[k][...] = saved[k]
    num = (lp - lm) / (2 * h)  # (L(p + h d) - L(p - h d)) / 2h
    ana = float(sum(np.sum(np.asarray(grads[k], np.float64) * d[k]) for k in params))  # <grad, d>
    if not (np.isfinite(num) and np.isfinite(ana)):
        raise ValueError(f"non-finite directional derivative (numerical {num}, analytic {ana})")
    return {"numerical": num, "analytic": ana, "rel_error": rel_error(num, ana)}
