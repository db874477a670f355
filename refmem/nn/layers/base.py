"""The layer protocol shared by every neocortical building block, and ``Sequential``.

Conventions (all layers):

* Data are NHWC (batch, height, width, channels), as in the paper's Keras code.
* ``input_shape`` / ``output_shape`` are per-example shapes (no batch axis), fixed at
  construction; ``forward`` raises ``ValueError`` on any other shape.
* ``params`` maps short names (``"kernel"``, ``"bias"``, ``"gamma"``, ``"beta"``) to
  trainable arrays; ``grads`` has exactly the same keys and shapes; ``buffers`` holds
  non-trainable state (batch-norm moving statistics). Kernels use Keras layouts
  (Dense ``(in, out)``, Conv2D ``(kh, kw, in, out)`` = HWIO, Conv2DTranspose
  ``(kh, kw, out, in)``) so that weights from other frameworks map in directly.
* ``forward(x, train=False, rng=None) -> (y, cache)``; ``cache`` is whatever
  ``backward`` needs and nothing is kept on the layer, so two forwards may be
  back-propagated in any order.
* ``backward(dy, cache) -> dx`` returns the input gradient and **accumulates** (``+=``)
  parameter gradients into ``grads``; ``zero_grad()`` resets them.
  ``backward_params(dy, cache)`` accumulates the same parameter gradients without
  computing ``dx`` (for a first layer, whose input is data); it returns None.
* A layer computes in its own dtype (chosen at construction: float32 for training
  runs, float64 for gradient checks); input of another dtype raises ``TypeError``.
* ``train`` and ``mode`` are distinct: ``mode="as_run"`` layers (batch norm, dropout)
  behave the same whether ``train`` is True or False, which is what the paper's code
  actually ran (docs/paper-experiments.md, 1.7).
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, List, Optional, Sequence, Tuple

import numpy as np

from refmem.nn.layers.fold import FoldedPair, can_fold

__all__ = ["Layer", "KernelLayer", "Sequential"]


class Layer:
    """Base class: holds ``params``, ``grads``, ``buffers`` and fixed shapes."""

    def __init__(self, input_shape: Sequence[int], output_shape: Sequence[int],
                 dtype: Any = np.float32, name: Optional[str] = None):
        self.input_shape = tuple(int(s) for s in input_shape)
        self.output_shape = tuple(int(s) for s in output_shape)
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise TypeError(f"layer dtype must be a float dtype, got {self.dtype}")
        self.name = name or type(self).__name__.lower()
        self.params: "OrderedDict[str, np.ndarray]" = OrderedDict()
        self.grads: "OrderedDict[str, np.ndarray]" = OrderedDict()
        self.buffers: "OrderedDict[str, np.ndarray]" = OrderedDict()

    # -- helpers for subclasses ------------------------------------------------------
    def _add_param(self, key: str, value: np.ndarray) -> None:
        self.params[key] = np.ascontiguousarray(value, dtype=self.dtype)
        self.grads[key] = np.zeros_like(self.params[key])

    def _check_input(self, x: np.ndarray) -> np.ndarray:
        if not isinstance(x, np.ndarray):
            raise TypeError(f"{self.name}: input must be an ndarray, got {type(x).__name__}")
        if x.dtype != self.dtype:
            raise TypeError(f"{self.name}: input dtype {x.dtype} does not match layer dtype {self.dtype}")
        if x.shape[1:] != self.input_shape or x.ndim != len(self.input_shape) + 1:
            raise ValueError(f"{self.name}: expected input of shape (N, {', '.join(map(str, self.input_shape))}), "
                             f"got {x.shape}")
        return x

    # -- protocol --------------------------------------------------------------------
    def forward(self, x: np.ndarray, train: bool = False,
                rng: Optional[np.random.Generator] = None) -> Tuple[np.ndarray, Any]:
        raise NotImplementedError

    def backward(self, dy: np.ndarray, cache: Any) -> np.ndarray:
        raise NotImplementedError

    def backward_params(self, dy: np.ndarray, cache: Any) -> None:
        """Accumulate the parameter gradients of :meth:`backward`, skipping ``dx``.

        Layers whose input gradient is separable work override it to save that work.
        """
        self.backward(dy, cache)

    def zero_grad(self) -> None:
        for g in self.grads.values():
            g.fill(0)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, {self.input_shape} -> {self.output_shape})"


class KernelLayer(Layer):
    """A layer ``y = L(x; kernel) + bias``, linear in ``kernel`` and ``bias`` (the convolutions).

    Subclasses implement the pure pair ``forward_with(x, kernel, bias) -> (y, cache)`` and
    ``backward_with(dy, cache, need_dx) -> (dx or None, dkernel, dbias)`` and set
    ``out_axis``, the kernel axis of the output channels; ``forward``/``backward`` apply
    them to the layer's own parameters. A batch normalisation with fixed statistics after
    such a layer is folded into its kernel and bias (:mod:`refmem.nn.layers.fold`).
    """

    out_axis = -1

    def forward_with(self, x, kernel, bias):
        raise NotImplementedError

    def backward_with(self, dy, cache, need_dx: bool = True):
        raise NotImplementedError

    def forward(self, x, train=False, rng=None):
        """``y = L(x; kernel) + bias``; returns ``(y, cache)``."""
        self._check_input(x)
        return self.forward_with(x, self.params["kernel"], self.params.get("bias"))

    def backward(self, dy, cache, need_dx: bool = True):
        """Return dx (None if not ``need_dx``); accumulate ``grads['kernel']``, ``grads['bias']``."""
        dx, dk, db = self.backward_with(dy, cache, need_dx)
        self.grads["kernel"] += dk
        if "bias" in self.grads:
            self.grads["bias"] += db
        return dx

    def backward_params(self, dy, cache) -> None:
        """Accumulate the kernel and bias gradients without the input gradient."""
        self.backward(dy, cache, need_dx=False)


class Sequential(Layer):
    """A chain of layers; parameter names are ``"<layer name>.<key>"``.

    ``params``/``grads``/``buffers`` are views onto the children's arrays (the same
    objects), so optimisers updating ``params[k]`` in place update the children.

    Parameters
    ----------
    layers : sequence of Layer
    name : str, optional
    fuse : bool, default True
        Run each kernel layer followed by a ``BatchNorm`` as one unit
        (:class:`~refmem.nn.layers.fold.FoldedPair`): the normalisation is folded into the
        kernel and bias whenever it uses fixed statistics (Eqs. (N27)-(N28)); same
        results to rounding as ``fuse=False``, which runs every layer on its own.
        :meth:`forward_collect` always runs the layers one by one.
    """

    def __init__(self, layers: Sequence[Layer], name: Optional[str] = None, fuse: bool = True):
        if not layers:
            raise ValueError("Sequential needs at least one layer")
        names = [l.name for l in layers]
        if len(set(names)) != len(names):
            raise ValueError(f"layer names must be unique, got {names}")
        for a, b in zip(layers[:-1], layers[1:]):
            if a.output_shape != b.input_shape:
                raise ValueError(f"{a.name} outputs {a.output_shape} but {b.name} expects {b.input_shape}")
        super().__init__(layers[0].input_shape, layers[-1].output_shape, layers[0].dtype, name or "sequential")
        self.layers: List[Layer] = list(layers)
        for l in self.layers:
            for k in l.params:
                self.params[f"{l.name}.{k}"] = l.params[k]
                self.grads[f"{l.name}.{k}"] = l.grads[k]
            for k in l.buffers:
                self.buffers[f"{l.name}.{k}"] = l.buffers[k]
        #: the execution units: layers, or a kernel layer and its BatchNorm as one FoldedPair
        self.units: list = []
        i = 0
        while i < len(self.layers):
            l = self.layers[i]
            if fuse and i + 1 < len(self.layers) and can_fold(l, self.layers[i + 1]):
                self.units.append(FoldedPair(l, self.layers[i + 1]))
                i += 2
            else:
                self.units.append(l)
                i += 1

    def forward(self, x, train=False, rng=None):
        caches = []
        for u in self.units:
            x, c = u.forward(x, train=train, rng=rng)
            caches.append(c)
        return x, caches

    def forward_collect(self, x, names: Sequence[str], train=False, rng=None):
        """Forward pass that also returns the outputs of the named layers (a dict)."""
        want, out = set(names), {}
        unknown = want - {l.name for l in self.layers}
        if unknown:
            raise ValueError(f"unknown layer name(s) {sorted(unknown)}; have {[l.name for l in self.layers]}")
        for l in self.layers:
            x, _ = l.forward(x, train=train, rng=rng)
            if l.name in want:
                out[l.name] = x
        return x, out

    def backward(self, dy, cache, need_dx: bool = True):
        """Back-propagate ``dy``; accumulate every layer's parameter gradients; return dx.

        With ``need_dx=False`` (the input is data) the layers before the first one with
        parameters are skipped, that layer runs :meth:`Layer.backward_params`, and None
        is returned.
        """
        units = self.units
        first = 0 if need_dx else next((i for i, u in enumerate(units) if u.params), len(units))
        for i in range(len(units) - 1, first - 1, -1):
            u, c = units[i], cache[i]
            if i == first and not need_dx:
                u.backward_params(dy, c)
                return None
            dy = u.backward(dy, c)
        return dy if need_dx else None

    def zero_grad(self):
        for l in self.layers:
            l.zero_grad()

    def __getitem__(self, name: str) -> Layer:
        for l in self.layers:
            if l.name == name:
                return l
        raise KeyError(name)
