"""The parameterised layers of a refmem VAE in order, with what a converter needs to know.

Shared by the Keras and PyTorch converters: each entry names the layer (``prefix``, e.g.
``"encoder.conv1"``), its kind, its place in the encoder (trunk / μ head / log σ² head)
and whether a flatten or reshape of an image tensor sits next to it (where NHWC and
NCHW frameworks order features differently).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple

import numpy as np

from refmem.nn.layers import BatchNorm, Conv2D, Conv2DTranspose, Dense, UpsampleConv2D
from refmem.nn.layers.pooling import Reshape

__all__ = ["LayerEntry", "param_layers", "hwc_to_chw_index"]

_KINDS = ((Conv2DTranspose, "convt"), (UpsampleConv2D, "upconv"), (Conv2D, "conv"),
          (Dense, "dense"), (BatchNorm, "bn"))


@dataclass
class LayerEntry:
    """One parameterised layer of a VAE.

    Attributes
    ----------
    prefix : str
        ``"encoder.<name>"`` or ``"decoder.<name>"``; parameters are ``prefix + ".kernel"`` ...
    layer : Layer
    kind : {"conv", "upconv", "convt", "dense", "bn"}
    part : {"encoder", "decoder"}
    role : {"trunk", "mu", "log_var", "decoder"}
    flatten_in : (H, W, C) or None
        A Dense whose input is an (H, W, C) tensor flattened in NHWC order.
    reshape_out : (H, W, C) or None
        A Dense whose output is reshaped to (H, W, C) in NHWC order.
    """

    prefix: str
    layer: object
    kind: str
    part: str
    role: str
    flatten_in: Optional[Tuple[int, int, int]] = None
    reshape_out: Optional[Tuple[int, int, int]] = None


def _kind(layer) -> Optional[str]:
    if not layer.params:
        return None
    for cls, kind in _KINDS:
        if isinstance(layer, cls):
            return kind
    raise TypeError(f"layer {layer.name!r} ({type(layer).__name__}) has parameters but no "
                    "known conversion")


def _neighbour_reshape(layers, i: int, step: int):
    """The Reshape/Flatten next to layer ``i`` (looking past element-wise layers without
    parameters, e.g. the ReLU between the MNIST decoder's dense and its reshape)."""
    j = i + step
    while 0 <= j < len(layers):
        layer = layers[j]
        if isinstance(layer, Reshape):
            return layer
        if layer.params or layer.input_shape != layer.output_shape:
            return None
        j += step
    return None


def _walk(layers, part: str, role: str) -> List[LayerEntry]:
    out = []
    for i, layer in enumerate(layers):
        kind = _kind(layer)
        if kind is None:
            continue
        e = LayerEntry(f"{part}.{layer.name}", layer, kind, part, role)
        if kind == "dense":
            prev = _neighbour_reshape(layers, i, -1)
            nxt = _neighbour_reshape(layers, i, +1)
            if prev is not None and len(prev.input_shape) == 3:
                e.flatten_in = prev.input_shape
            if nxt is not None and len(nxt.output_shape) == 3:
                e.reshape_out = nxt.output_shape
        out.append(e)
    return out


def param_layers(vae) -> List[LayerEntry]:
    """Entries for every parameterised layer: encoder trunk, μ head, log σ² head, decoder."""
    enc = vae.encoder
    entries = _walk(enc.trunk_layers, "encoder", "trunk")
    entries += _walk(enc.mu_layers, "encoder", "mu")
    entries += _walk(enc.log_var_layers, "encoder", "log_var")
    dec_layers = vae.decoder.layers if hasattr(vae.decoder, "layers") else [vae.decoder]
    entries += _walk(dec_layers, "decoder", "decoder")
    return entries


def hwc_to_chw_index(shape: Tuple[int, int, int]) -> np.ndarray:
    """Permutation ``p`` with ``flat_hwc[p] == flat_chw`` for an (H, W, C) tensor.

    Element ``k`` of the channels-first flattening (NCHW, ``c * H * W + h * W + w``) is
    element ``p[k]`` of the channels-last flattening (NHWC, ``(h * W + w) * C + c``).
    """
    h, w, c = shape
    return np.arange(h * w * c).reshape(h, w, c).transpose(2, 0, 1).ravel()
