"""The VAE's Gaussian encoder: a shared trunk and two parallel heads (μ, log σ²).

q(z|x) = N(μ(x), diag σ²(x)) of Kingma & Welling [1]_: the trunk maps x to features h,
then a μ head and a log σ² head map h to (N, L) each. Heads may differ (the DRM text
VAE applies dropout on the μ branch only) and the trunk may be absent (identity).
Used by :class:`refmem.neocortex.vae.VAE`; equations in ``docs/neocortex.md``.

References
----------
.. [1] D. P. Kingma and M. Welling, "Auto-Encoding Variational Bayes", ICLR 2014.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Dict, Optional, Sequence

import numpy as np

from refmem.nn.layers.base import Layer, Sequential

__all__ = ["GaussianEncoder"]


def _as_layers(head) -> list:
    if head is None:
        return []
    return [head] if isinstance(head, Layer) else list(head)


def _owned(seq: Sequential, names: Sequence[str]) -> list:
    """The names in ``names`` that are layers of ``seq``."""
    mine = {l.name for l in seq.layers}
    return [n for n in names if n in mine]


class GaussianEncoder:
    """Encoder ``x -> (μ, log σ²)``: a shared trunk, then two parallel heads.

    Parameters
    ----------
    trunk : Layer or None
        Shared layers (usually a :class:`~refmem.nn.layers.Sequential`); None = identity
        (the DRM text VAE, whose heads read the raw input).
    mu, log_var : Layer or sequence of Layer, optional
        The μ and log σ² heads, applied to the trunk output (they may differ: in the
        text VAE the μ head is ``[Dropout(0.5), Dense]`` and the log σ² head ``[Dense]``).
        If both are None the trunk output ``(2L,)`` is split as ``[μ, log σ²]``.
    input_shape : tuple of int, optional
        Needed only when ``trunk`` is None.

    Notes
    -----
    Parameter names are ``"<layer name>.<key>"`` over trunk and head layers (names
    must be unique), e.g. ``conv1.kernel``, ``bn1.gamma``, ``mu.kernel``; the VAE
    prefixes them with ``encoder.``.
    """

    def __init__(self, trunk: Optional[Layer], mu=None, log_var=None,
                 input_shape: Optional[Sequence[int]] = None):
        if trunk is not None and not isinstance(trunk, Sequential):
            trunk = Sequential([trunk], name="trunk")
        self.trunk = trunk
        self.mu_layers, self.log_var_layers = _as_layers(mu), _as_layers(log_var)
        self.split = not self.mu_layers and not self.log_var_layers
        if trunk is None and input_shape is None:
            raise ValueError("input_shape is required when trunk is None")
        if self.split and trunk is None:
            raise ValueError("give mu and log_var heads, or a trunk whose output is (2L,)")
        if bool(self.mu_layers) != bool(self.log_var_layers):
            raise ValueError("give both mu and log_var heads, or neither")
        self.input_shape = tuple(trunk.input_shape if trunk is not None else input_shape)
        feat = trunk.output_shape if trunk is not None else self.input_shape
        all_layers = self.trunk_layers + self.mu_layers + self.log_var_layers
        self.dtype = all_layers[0].dtype
        if any(l.dtype != self.dtype for l in all_layers):
            raise TypeError("all encoder layers must share one dtype")
        names = [l.name for l in all_layers]
        if len(set(names)) != len(names):
            raise ValueError(f"encoder layer names must be unique, got {names}")
        if self.split:
            if len(feat) != 1 or feat[0] % 2:
                raise ValueError(f"a split encoder needs a trunk output (2L,), got {feat}")
            self.latent_dim = feat[0] // 2
            self.mu_head = self.log_var_head = None
        else:  # each head is a Sequential (it checks that consecutive shapes match)
            self.mu_head = Sequential(self.mu_layers, name="mu_head")
            self.log_var_head = Sequential(self.log_var_layers, name="log_var_head")
            for head in (self.mu_head, self.log_var_head):
                if head.input_shape != feat:
                    raise ValueError(f"{head.layers[0].name} expects {head.input_shape} but receives {feat}")
                if len(head.output_shape) != 1:
                    raise ValueError(f"encoder heads must output (L,), got {head.output_shape}")
            if self.mu_head.output_shape != self.log_var_head.output_shape:
                raise ValueError("mu and log_var heads must have the same output shape")
            self.latent_dim = self.mu_head.output_shape[0]
        self.params, self.grads, self.buffers = OrderedDict(), OrderedDict(), OrderedDict()
        for part in (self.trunk, self.mu_head, self.log_var_head):  # Sequential names: "<layer>.<key>"
            if part is not None:
                self.params.update(part.params)
                self.grads.update(part.grads)
                self.buffers.update(part.buffers)

    @property
    def trunk_layers(self) -> list:
        return [] if self.trunk is None else list(self.trunk.layers)

    def forward(self, x, train=False, rng=None):
        """x : (N, *input_shape) -> (μ (N, L), log σ² (N, L), cache)."""
        h, c_trunk = self.trunk.forward(x, train=train, rng=rng) if self.trunk is not None else (x, None)
        if self.split:
            return h[:, :self.latent_dim], h[:, self.latent_dim:], (c_trunk, None, None)
        mu, c_mu = self.mu_head.forward(h, train=train, rng=rng)
        log_var, c_lv = self.log_var_head.forward(h, train=train, rng=rng)
        return mu, log_var, (c_trunk, c_mu, c_lv)

    def backward(self, d_mu, d_log_var, cache, need_dx: bool = True):
        """Back-propagate (dL/dμ, dL/dlog σ²); accumulates parameter grads; returns dx.

        ``need_dx=False`` (the input is data): the input gradient is not computed and
        None is returned (the first layers skip that work).
        """
        c_trunk, c_mu, c_lv = cache
        if self.split:
            dh = np.concatenate([d_mu, d_log_var], axis=1)
        else:
            heads_need = need_dx or self.trunk is not None
            dh_mu = self.mu_head.backward(d_mu, c_mu, need_dx=heads_need)
            dh_lv = self.log_var_head.backward(d_log_var, c_lv, need_dx=heads_need)
            if dh_mu is None or dh_lv is None:  # data input (sparse, or no dx wanted)
                return None
            dh = dh_mu + dh_lv  # both heads read h
        return self.trunk.backward(dh, c_trunk, need_dx=need_dx) if self.trunk is not None else dh

    def collect(self, x, names: Sequence[str]) -> Dict[str, np.ndarray]:
        """Inference-mode outputs of the named trunk/head layers (a dict)."""
        known = [l.name for l in self.trunk_layers + self.mu_layers + self.log_var_layers]
        unknown = sorted(set(names) - set(known))
        if unknown:
            raise ValueError(f"unknown encoder layer name(s) {unknown}; have {known}")
        out, h = {}, x
        if self.trunk is not None:
            h, got = self.trunk.forward_collect(x, _owned(self.trunk, names))
            out.update(got)
        for head in (self.mu_head, self.log_var_head):
            if head is not None:
                out.update(head.forward_collect(h, _owned(head, names))[1])
        return out

    def zero_grad(self) -> None:
        for part in (self.trunk, self.mu_head, self.log_var_head):
            if part is not None:
                part.zero_grad()
