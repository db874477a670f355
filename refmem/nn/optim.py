"""Adam and AMSGrad (Kingma & Ba 2015 [1]_; Reddi et al. 2018 [2]_), as Keras runs them.

The paper trains every VAE with ``keras.optimizers.Adam(lr=0.001, amsgrad=True)``
(docs/paper-experiments.md, 1.6), Keras defaults otherwise (β1 = 0.9, β2 = 0.999, ε = 1e-7).

The variant implemented (Keras 2.x ``Adam``: ``optimizer_v1``, ``optimizer_v2`` and the
2.11 optimizer all compute the same update) is the "folded" form of Algorithm 1 of
[1]_ (the formula just before its Section 2.1), with ε added to sqrt(v) of the
*uncorrected* second moment::

    t      <- t + 1                                  (one counter per optimiser step)
    lr_t   =  lr * sqrt(1 - β2^t) / (1 - β1^t)       bias corrections folded into lr
    m      <- β1 m + (1 - β1) g
    v      <- β2 v + (1 - β2) g²
    v_hat  <- max(v_hat, v)                          AMSGrad only (Algorithm 2 of [2]_)
    θ      <- θ - lr_t * m / (sqrt(v_hat or v) + ε)

Algorithm 1 of [1]_ instead writes θ <- θ - lr m̂ / (sqrt(v̂) + ε) with m̂ = m/(1-β1^t),
v̂ = v/(1-β2^t). The two agree exactly when ε = 0; otherwise the Keras update equals
Algorithm 1 with ε replaced by ε / sqrt(1-β2^t) (about 32 ε at t = 1, tending to ε as t
grows). Keras documents its ε as "epsilon hat" of [1]_ for this reason.
AMSGrad's max is taken over the uncorrected v, again as Keras does. (Keras 2.11's
``update_step`` writes the moment updates as ``m += (g - m)(1 - β1)``, algebraically
the same; results agree to float rounding.)

References
----------
.. [1] D. P. Kingma and J. Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015.
.. [2] S. J. Reddi, S. Kale and S. Kumar, "On the Convergence of Adam and Beyond",
   ICLR 2018.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Dict, Mapping, Optional, Tuple

import numpy as np

from refmem._utils import check_array, check_positive

__all__ = ["adam_step", "Adam"]


def _check_hyper(lr, beta1, beta2, eps) -> None:
    check_positive(lr, "lr")
    check_positive(eps, "eps", allow_zero=True)
    for name, b in (("beta1", beta1), ("beta2", beta2)):
        check_positive(b, name, allow_zero=True)
        if not b < 1:
            raise ValueError(f"{name} must lie in [0, 1), got {b!r}")


def _check_grad(g: np.ndarray, name: str, dtype) -> None:
    """A gradient must be real, finite, and small enough that its square fits ``dtype``."""
    if g.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real array, got dtype {g.dtype}")
    top = float(np.abs(g).max(initial=0.0))
    if not np.isfinite(top):
        raise ValueError(f"{name} contains NaN or inf")
    if top > np.sqrt(np.finfo(dtype).max):
        raise ValueError(f"{name} reaches {top:.3g}: its square overflows {np.dtype(dtype).name}")


def _lr_t(lr: float, beta1: float, beta2: float, t: int) -> float:
    return lr * np.sqrt(1.0 - beta2 ** t) / (1.0 - beta1 ** t)  # (V9) lr_t = lr sqrt(1-β2^t)/(1-β1^t)


def _update(param, grad, m, v, v_hat, lr_t, beta1, beta2, eps) -> None:
    """One in-place Keras Adam/AMSGrad update of ``param``, ``m``, ``v`` (and ``v_hat``)."""
    dt = param.dtype.type
    tmp = np.multiply(grad, dt(1.0 - beta1), dtype=param.dtype)  # one scratch array, reused
    m *= dt(beta1)
    m += tmp  # (V10) m <- β1 m + (1 - β1) g
    np.square(grad, out=tmp)
    tmp *= dt(1.0 - beta2)
    v *= dt(beta2)
    v += tmp  # (V11) v <- β2 v + (1 - β2) g²
    if v_hat is not None:
        np.maximum(v_hat, v, out=v_hat)  # (V12) AMSGrad: v_hat <- max(v_hat, v)
    np.sqrt(v if v_hat is None else v_hat, out=tmp)
    tmp += dt(eps)
    np.divide(m, tmp, out=tmp)
    tmp *= dt(lr_t)
    param -= tmp  # (V13) θ <- θ - lr_t m / (sqrt(v) + ε)


def adam_step(param, grad, state: Optional[dict] = None, *, lr: float = 1e-3,
              beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-7,
              amsgrad: bool = False) -> Tuple[np.ndarray, dict]:
    """One Adam / AMSGrad step as Keras 2.11 runs it (pure: inputs are not modified).

    Parameters
    ----------
    param : ndarray
        Current parameter θ (float dtype, any shape).
    grad : ndarray, same shape as ``param``
        Gradient g of the loss at θ.
    state : dict or None
        ``{"m", "v", "t"}`` (plus ``"v_hat"`` with AMSGrad) from the previous step;
        None (or ``{}``) starts from zero moments and t = 0.
    lr, beta1, beta2, eps : float
        Keras defaults: 1e-3, 0.9, 0.999, 1e-7 (ε is added to sqrt(v), see module doc).
    amsgrad : bool
        Use AMSGrad (Algorithm 2 of [2]_), as the paper does.

    Returns
    -------
    param : ndarray of param's dtype
        θ_t (a new array).
    state : dict
        The new state (new arrays; ``"t"`` is an int).

    Notes
    -----
    lr_t = lr sqrt(1 - β2^t)/(1 - β1^t); m = β1 m + (1-β1) g; v = β2 v + (1-β2) g²;
    v_hat = max(v_hat, v); θ = θ - lr_t m / (sqrt(v_hat) + ε): the folded form of
    Algorithm 1 of [1]_ (ε on sqrt(v), not on sqrt(v̂)).
    """
    _check_hyper(lr, beta1, beta2, eps)
    param = np.asarray(param)
    if param.dtype.kind != "f":
        raise TypeError(f"param must be a float array, got dtype {param.dtype}")
    grad = np.asarray(grad)
    if grad.shape != param.shape:
        raise ValueError(f"grad must have the shape of param {param.shape}, got {grad.shape}")
    _check_grad(grad, "grad", param.dtype)
    grad = grad.astype(param.dtype, copy=False)
    state = dict(state or {})
    t = int(state.get("t", 0)) + 1
    m = np.array(state.get("m", np.zeros_like(param)), dtype=param.dtype)
    v = np.array(state.get("v", np.zeros_like(param)), dtype=param.dtype)
    v_hat = np.array(state.get("v_hat", np.zeros_like(param)), dtype=param.dtype) if amsgrad else None
    new = param.copy()
    _update(new, grad, m, v, v_hat, _lr_t(lr, beta1, beta2, t), beta1, beta2, eps)
    out = {"m": m, "v": v, "t": t}
    if amsgrad:
        out["v_hat"] = v_hat
    return new, out


class Adam:
    """Adam / AMSGrad over a dict of parameter arrays, updated **in place**.

    Parameters
    ----------
    params : mapping of str -> ndarray
        The arrays to optimise (e.g. ``VAE.params``); they are modified in place, so
        layers sharing them see the update.
    lr, beta1, beta2, eps, amsgrad
        As :func:`adam_step` (same update, see the module docstring).

    Attributes
    ----------
    t : int
        Number of steps taken (one counter for the whole optimiser, so a parameter's
        bias correction never depends on how many other parameters there are).
    """

    def __init__(self, params: Mapping[str, np.ndarray], lr: float = 1e-3, beta1: float = 0.9,
                 beta2: float = 0.999, eps: float = 1e-7, amsgrad: bool = False):
        _check_hyper(lr, beta1, beta2, eps)
        if not isinstance(params, Mapping) or not params:
            raise TypeError("params must be a non-empty mapping of name -> ndarray")
        for k, p in params.items():
            if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
                raise TypeError(f"parameter {k!r} must be a float ndarray")
        self.params = params
        self.lr, self.beta1, self.beta2, self.eps = float(lr), float(beta1), float(beta2), float(eps)
        self.amsgrad = bool(amsgrad)
        self.t = 0
        self.m = OrderedDict((k, np.zeros_like(p)) for k, p in params.items())
        self.v = OrderedDict((k, np.zeros_like(p)) for k, p in params.items())
        self.v_hat = OrderedDict((k, np.zeros_like(p)) for k, p in params.items()) if amsgrad else None

    def step(self, grads: Mapping[str, np.ndarray]) -> None:
        """Apply one update to every parameter from ``grads`` (same keys as ``params``)."""
        if set(grads) != set(self.params):
            missing = sorted(set(self.params) - set(grads))
            extra = sorted(set(grads) - set(self.params))
            raise ValueError(f"grads must have the keys of params; missing {missing}, unexpected {extra}")
        for k, g in grads.items():
            if np.shape(g) != self.params[k].shape:
                raise ValueError(f"grad {k!r} must have shape {self.params[k].shape}, got {np.shape(g)}")
            _check_grad(np.asarray(g), f"grad {k!r}", self.params[k].dtype)
        self.t += 1  # one step counter per optimiser step, not per parameter
        lr_t = _lr_t(self.lr, self.beta1, self.beta2, self.t)
        for k, p in self.params.items():
            g = np.asarray(grads[k], dtype=p.dtype)
            vh = self.v_hat[k] if self.amsgrad else None
            _update(p, g, self.m[k], self.v[k], vh, lr_t, self.beta1, self.beta2, self.eps)

    def state_dict(self) -> Dict[str, np.ndarray]:
        """Flat dict of arrays (``.npz``-ready): ``m.<name>``, ``v.<name>``,
        ``v_hat.<name>`` (AMSGrad), ``t`` and ``hyper`` = [lr, beta1, beta2, eps, amsgrad]."""
        out: Dict[str, np.ndarray] = {"t": np.array(self.t, dtype=np.int64),
                                      "hyper": np.array([self.lr, self.beta1, self.beta2,
                                                         self.eps, float(self.amsgrad)])}
        for k in self.params:
            out[f"m.{k}"] = self.m[k].copy()
            out[f"v.{k}"] = self.v[k].copy()
            if self.amsgrad:
                out[f"v_hat.{k}"] = self.v_hat[k].copy()
        return out

    def load_state_dict(self, d: Mapping[str, np.ndarray]) -> None:
        """Restore moments, step counter and hyper-parameters from :meth:`state_dict`.

        Raises
        ------
        ValueError
            Missing keys, wrong shapes, non-finite (or negative second) moments, or an
            ``amsgrad`` flag that differs from this optimiser's. Nothing is changed then.
        """
        if "t" not in d or "hyper" not in d:
            raise ValueError("state dict must contain 't' and 'hyper' (from Adam.state_dict())")
        hyper = check_array(d["hyper"], "'hyper'", shape=(5,))
        lr, b1, b2, eps, ams = (float(h) for h in hyper)
        if bool(ams) != self.amsgrad:
            raise ValueError(f"state dict has amsgrad={bool(ams)}, optimiser has amsgrad={self.amsgrad}")
        prefixes = ("m", "v", "v_hat") if self.amsgrad else ("m", "v")
        for pre in prefixes:
            for k, p in self.params.items():
                key = f"{pre}.{k}"
                if key not in d:
                    raise ValueError(f"state dict is missing {key!r}")
                if np.shape(d[key]) != p.shape:
                    raise ValueError(f"{key!r} must have shape {p.shape}, got {np.shape(d[key])}")
        _check_hyper(lr, b1, b2, eps)
        t = np.asarray(d["t"])
        if t.shape != () or t.dtype.kind not in "iu" or t < 0:
            raise ValueError(f"'t' must be an integer step count >= 0, got {t!r}")
        for pre in prefixes:
            for k in self.params:
                a = np.asarray(d[f"{pre}.{k}"])
                if a.dtype.kind not in "fiu" or not np.all(np.isfinite(a)) or (pre != "m" and np.any(a < 0)):
                    raise ValueError(f"{pre}.{k!r} must hold finite numbers{'' if pre == 'm' else ' >= 0'}")
        self.lr, self.beta1, self.beta2, self.eps = lr, b1, b2, eps
        self.t = int(t)
        for pre in prefixes:
            store = getattr(self, pre)
            for k, p in self.params.items():
                store[k][...] = np.asarray(d[f"{pre}.{k}"], dtype=p.dtype)
