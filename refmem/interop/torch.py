"""PyTorch ``state_dict`` <-> refmem parameters, for the paper's three architectures.

Works on plain arrays: values may be NumPy arrays or CPU tensors (anything with
``.detach()`` / ``np.asarray``), so torch is never imported here. The names are those
of the reference PyTorch modules of ``docs/crosscheck.md``: refmem's parameter name with
``kernel``/``gamma`` -> ``weight``, ``beta`` -> ``bias``, and the batch-norm buffers
``moving_mean``/``moving_variance`` -> ``running_mean``/``running_var`` (plus
``num_batches_tracked``), e.g. ``encoder.conv1.kernel`` <-> ``encoder.conv1.weight``.

Layouts (refmem = Keras, NHWC; PyTorch, NCHW)::

    Conv2D / UpsampleConv2D  (kh, kw, in, out)  <->  Conv2d weight (out, in, kh, kw)
    Conv2DTranspose          (kh, kw, out, in)  <->  ConvTranspose2d weight (in, out, kh, kw)
    Dense                    (in, out)          <->  Linear weight (out, in)

and, with ``nchw=True`` (the reference modules), a Dense that reads a flattened image
tensor (MNIST encoder ``dense1``, after Flatten of 7x7x64) or whose output is reshaped to
an image tensor (both decoders' ``dense``) has its rows/columns permuted from NHWC
order ``(h, w, c)`` to NCHW order ``(c, h, w)``, so that ``torch.flatten`` /
``view(-1, C, H, W)`` on NCHW tensors give the same network. Forgetting that
permutation still runs and gives plausible-looking but wrong outputs.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Dict, Mapping

import numpy as np

from ._walk import hwc_to_chw_index, param_layers

__all__ = ["to_torch_state_dict", "from_torch_state_dict", "load_torch_state_dict",
           "torch_name"]

_PARAM = {"kernel": "weight", "bias": "bias", "gamma": "weight", "beta": "bias"}
_BUFFER = {"moving_mean": "running_mean", "moving_variance": "running_var"}


def torch_name(refmem_name: str) -> str:
    """``"encoder.conv1.kernel"`` -> ``"encoder.conv1.weight"`` (params and BN buffers)."""
    prefix, key = refmem_name.rsplit(".", 1)
    return f"{prefix}.{_PARAM.get(key) or _BUFFER.get(key) or key}"


def _to_torch(e, key: str, a: np.ndarray, nchw: bool) -> np.ndarray:
    if key != "kernel":
        if key == "bias" and e.reshape_out is not None and nchw:
            return a[hwc_to_chw_index(e.reshape_out)]
        return a
    if e.kind in ("conv", "upconv", "convt"):
        return a.transpose(3, 2, 0, 1)  # (kh, kw, i, o) -> (o, i, kh, kw); ConvT: (kh, kw, o, i) -> (i, o, kh, kw)
    if nchw and e.flatten_in is not None:
        a = a[hwc_to_chw_index(e.flatten_in), :]  # rows in (c, h, w) order
    if nchw and e.reshape_out is not None:
        a = a[:, hwc_to_chw_index(e.reshape_out)]  # columns in (c, h, w) order
    return a.T  # (in, out) -> (out, in)


def _from_torch(e, key: str, a: np.ndarray, nchw: bool) -> np.ndarray:
    if key != "kernel":
        if key == "bias" and e.reshape_out is not None and nchw:
            return a[np.argsort(hwc_to_chw_index(e.reshape_out))]
        return a
    if e.kind in ("conv", "upconv", "convt"):
        return a.transpose(2, 3, 1, 0)
    a = a.T
    if nchw and e.flatten_in is not None:
        a = a[np.argsort(hwc_to_chw_index(e.flatten_in)), :]
    if nchw and e.reshape_out is not None:
        a = a[:, np.argsort(hwc_to_chw_index(e.reshape_out))]
    return a


def to_torch_state_dict(vae, nchw: bool = True, buffers: bool = True) -> "OrderedDict[str, np.ndarray]":
    """The reference PyTorch module's ``state_dict`` for a refmem VAE, as NumPy arrays.

    Parameters
    ----------
    vae : VAE
        One of the three architectures (any dtype; arrays keep it).
    nchw : bool, default True
        Permute flatten/reshape-adjacent Dense weights to NCHW feature order (see the
        module docstring); False keeps NHWC order (a port that flattens NHWC tensors).
    buffers : bool, default True
        Include ``running_mean``, ``running_var`` and ``num_batches_tracked`` (int64 0)
        of every batch norm.

    Returns
    -------
    OrderedDict of str -> ndarray
        ``model.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()})``.
    """
    out: "OrderedDict[str, np.ndarray]" = OrderedDict()
    for e in param_layers(vae):
        for key, value in e.layer.params.items():
            out[f"{e.prefix}.{_PARAM[key]}"] = np.ascontiguousarray(_to_torch(e, key, value, nchw))
        if e.kind == "bn" and buffers:
            for key, value in e.layer.buffers.items():
                out[f"{e.prefix}.{_BUFFER[key]}"] = value.copy()
            out[f"{e.prefix}.num_batches_tracked"] = np.array(0, dtype=np.int64)
    return out


def _as_array(v) -> np.ndarray:
    if hasattr(v, "detach"):  # a torch tensor (any device): no torch import needed
        v = v.detach().cpu().numpy()
    return np.asarray(v)


def from_torch_state_dict(vae, state_dict: Mapping, nchw: bool = True,
                          strict: bool = True) -> Dict[str, np.ndarray]:
    """refmem-layout arrays from a PyTorch ``state_dict`` (or its gradients).

    The mapping is linear and layout-only, so it converts parameter *gradients* too:
    pass ``{name: p.grad for name, p in model.named_parameters()}`` to get gradients
    comparable with ``vae.grads``.

    Parameters
    ----------
    vae : VAE
        Supplies the architecture (names, shapes); it is not modified.
    state_dict : mapping of str -> array or tensor
    nchw : bool, default True
        As :func:`to_torch_state_dict`.
    strict : bool, default True
        Raise if a parameter is missing or a key is not recognised. Batch-norm buffers
        are optional; ``num_batches_tracked`` is ignored.

    Returns
    -------
    dict of str -> ndarray
        Keys ``"<refmem param name>"`` and, for BN buffers present,
        ``"<refmem buffer name>"`` (e.g. ``encoder.bn1.moving_mean``); the input's dtype.
    """
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"state_dict must be a mapping of name -> array, got {type(state_dict).__name__}")
    out: Dict[str, np.ndarray] = {}
    used = set()
    for e in param_layers(vae):
        for key, ref in e.layer.params.items():
            name = f"{e.prefix}.{_PARAM[key]}"
            if name not in state_dict:
                if strict:
                    raise ValueError(f"state_dict has no {name!r} (refmem {e.prefix}.{key})")
                continue
            a = _from_torch(e, key, _as_array(state_dict[name]), nchw)
            if a.shape != ref.shape:
                raise ValueError(f"{name}: shape {_as_array(state_dict[name]).shape} gives "
                                 f"{a.shape} in refmem layout, expected {ref.shape}")
            out[f"{e.prefix}.{key}"] = a
            used.add(name)
        if e.kind == "bn":
            used.add(f"{e.prefix}.num_batches_tracked")
            for key, tkey in _BUFFER.items():
                name = f"{e.prefix}.{tkey}"
                if name in state_dict:
                    out[f"{e.prefix}.{key}"] = _as_array(state_dict[name])
                    used.add(name)
    extra = sorted(set(state_dict) - used)
    if strict and extra:
        raise ValueError(f"unexpected key(s) in state_dict: {extra[:5]}{'...' if len(extra) > 5 else ''}")
    return out


def load_torch_state_dict(vae, state_dict: Mapping, nchw: bool = True, strict: bool = True) -> None:
    """Copy a PyTorch ``state_dict`` into ``vae`` in place (cast to the VAE's dtype).

    Parameters as :func:`from_torch_state_dict`; BN buffers absent from the
    ``state_dict`` keep their values.
    """
    arrays = from_torch_state_dict(vae, state_dict, nchw=nchw, strict=strict)
    state = vae.get_state()
    for k, v in arrays.items():
        kind = "param" if k in vae.params else "buffer"
        state[f"{kind}/{k}"] = v.astype(vae.dtype)
    vae.set_state(state)
