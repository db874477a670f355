"""Keras weight files <-> refmem VAEs (needs ``h5py``: ``pip install 'refmem[h5]'``).

Reads the encoder and decoder weight files of a Keras model of one of the paper's three
architectures and returns a refmem :class:`~refmem.neocortex.vae.VAE` with those weights:

* Keras 2 ``.h5`` (``model.save_weights`` or ``model.save``): a group per layer with the
  attribute ``weight_names`` (``conv2d/kernel:0`` ...) and the file attribute
  ``layer_names`` giving the model's layer order. The paper's released
  ``model_weights/*_encoder.h5`` / ``*_decoder.h5`` are of this kind.
* Keras 3 ``.weights.h5``: groups ``.../<layer name>/vars/0, 1, ...`` (kernel, bias; or
  gamma, beta, moving mean, moving variance).

Keras and refmem share every layout (NHWC data, Dense ``(in, out)``, Conv2D
``(kh, kw, in, out)``, Conv2DTranspose ``(kh, kw, out, in)``), so the conversion copies
arrays. Layers are matched by kind in model order (convolutions, batch norms, dense
layers); the encoder's two heads are its last two dense layers, told apart by name
(``mean``/``z_mean`` = μ, ``z_log_var`` = log σ²) or else by order (μ first). Every
shape is checked against the architecture.

Batch norm: refmem's as-run BN (docs/paper-experiments.md, 1.7) is ``γ (x - m)/sqrt(v + 1e-3) + β`` with
the stored moving statistics, which the paper's training never updated (m = 0, v = 1
in the released files). Files whose statistics are not (0, 1) were trained with batch
statistics; they are refused unless ``bn_stats="load"``.
"""
from __future__ import annotations

import os
import re
from typing import Dict, List, Optional, Tuple

import numpy as np

from ._walk import param_layers

__all__ = ["load_keras_vae", "read_keras_weights", "save_keras_h5"]

_MU_NAMES = ("mean", "z_mean", "mu")
_LV_NAMES = ("z_log_var", "log_var", "logvar")
_BN_KEYS = ("gamma", "beta", "moving_mean", "moving_variance")


def _h5py():
    try:
        import h5py
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("reading Keras weight files needs h5py: pip install 'refmem[h5]'") from exc
    return h5py


def _s(v) -> str:
    return v.decode("utf8") if isinstance(v, bytes) else str(v)


def _natural_key(name: str):
    m = re.match(r"^(.*?)(?:_(\d+))?$", name)
    return (m.group(1), int(m.group(2) or 0))


def _layer_from_vars(arrays: List[np.ndarray]) -> Dict[str, np.ndarray]:
    if len(arrays) == 4 and all(a.ndim == 1 for a in arrays):
        return dict(zip(_BN_KEYS, arrays))
    if len(arrays) in (1, 2) and arrays[0].ndim in (2, 4):
        return dict(zip(("kernel", "bias"), arrays))
    raise ValueError(f"unrecognised variables of shapes {[a.shape for a in arrays]}")


def read_keras_weights(path, part: Optional[str] = None) -> List[Tuple[str, Dict[str, np.ndarray]]]:
    """The layers with weights in a Keras weight file, in model order.

    Parameters
    ----------
    path : str or os.PathLike
        Keras 2 ``.h5`` (``save_weights`` or full-model ``save``) or Keras 3 ``.weights.h5``.
    part : str, optional
        For a file of a whole model holding nested models (e.g. a VAE subclass saved with
        ``save_weights``: groups ``encoder`` and ``decoder``), the nested model to read.

    Returns
    -------
    list of (layer name, {variable name: ndarray})
        Variable names ``kernel``, ``bias``, ``gamma``, ``beta``, ``moving_mean``,
        ``moving_variance``. Keras 2 files keep the file's ``layer_names`` order; Keras 3
        files (which store no order) are sorted by name and numeric suffix
        (``conv2d`` < ``conv2d_1`` < ``conv2d_10``), Keras's creation order.
    """
    h5py = _h5py()
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"{path!r}: no such file")
    found: List[Tuple[str, List[np.ndarray]]] = []
    try:
        with h5py.File(path, "r") as f:
            root = f["model_weights"] if "model_weights" in f else f
            if "layer_names" in root.attrs:  # Keras 2 layout
                return _read_keras2(root, path, part)

            def visit(name, obj):
                parts = name.split("/")
                if (isinstance(obj, h5py.Group) and parts[-1] == "vars" and len(obj)
                        and (part is None or part in parts[:-2])):
                    keys = sorted(obj.keys(), key=int)
                    found.append((parts[-2] if len(parts) > 1 else "", [np.array(obj[k]) for k in keys]))
            root.visititems(visit)
    except (OSError, KeyError, RuntimeError) as exc:  # not HDF5, truncated, damaged, a missing group
        why = " ".join(str(exc).split())[:120] or type(exc).__name__
        raise ValueError(f"{path}: cannot read as a Keras weight file ({why})") from None
    if not found:
        raise ValueError(f"{path}: neither a Keras 2 weight file (no 'layer_names') nor a Keras 3 "
                         f".weights.h5 file (no '.../vars' groups{'' if part is None else ' under ' + part})")
    out: List[Tuple[str, Dict[str, np.ndarray]]] = []
    for name, arrays in sorted(found, key=lambda t: _natural_key(t[0])):
        try:
            out.append((name, _layer_from_vars(arrays)))
        except ValueError as exc:
            raise ValueError(f"{path}: layer {name!r}: {exc}") from None
    return out


def _read_keras2(root, path: str, part: Optional[str]):
    nested: Dict[str, list] = {}
    for name in map(_s, root.attrs["layer_names"]):
        g = root[name]
        groups: Dict[str, Dict[str, np.ndarray]] = {}  # layer scope -> variables, in file order
        for w in (_s(w) for w in g.attrs.get("weight_names", [])):
            scope, var = w.rsplit("/", 1) if "/" in w else ("", w)
            groups.setdefault(scope, {})[var.split(":")[0]] = np.array(g[w])
        if len(groups) == 1:
            nested[name] = [(name, next(iter(groups.values())))]
        elif groups:  # a nested model: one entry per inner layer
            nested[name] = [(scope.rsplit("/", 1)[-1], arrays) for scope, arrays in groups.items()]
    if part is not None:
        if part not in nested:
            raise ValueError(f"{path}: no nested model {part!r}; the file has {sorted(nested)}")
        return nested[part]
    return [layer for layers in nested.values() for layer in layers]


def _kind(arrays: Dict[str, np.ndarray]) -> str:
    if "gamma" in arrays:
        return "bn"
    return "conv" if arrays["kernel"].ndim == 4 else "dense"


def _split_heads(layers, path) -> Tuple[list, tuple, tuple]:
    dense = [l for l in layers if _kind(l[1]) == "dense"]
    if len(dense) < 2:
        raise ValueError(f"{path}: an encoder needs two dense heads (μ, log σ²), found "
                         f"{len(dense)} dense layer(s)")
    heads = dense[-2:]
    mu = [h for h in heads if h[0] in _MU_NAMES]
    lv = [h for h in heads if h[0] in _LV_NAMES]
    if mu and not lv:
        lv = [h for h in heads if h is not mu[0]]
    elif lv and not mu:
        mu = [h for h in heads if h is not lv[0]]
    elif not mu:
        mu, lv = heads[:1], heads[1:]
    trunk = [l for l in layers if l is not mu[0] and l is not lv[0]]
    return trunk, mu[0], lv[0]


def _assign(entries, keras_layers, path, bn_stats) -> Dict[str, np.ndarray]:
    """refmem state keys -> arrays, matching layers of one kind in order."""
    state: Dict[str, np.ndarray] = {}
    for kind in ("conv", "bn", "dense"):
        ours = [e for e in entries if (e.kind in ("conv", "upconv", "convt")) == (kind == "conv")
                and (kind == "conv" or e.kind == kind)]
        theirs = [l for l in keras_layers if _kind(l[1]) == kind]
        if len(ours) != len(theirs):
            raise ValueError(f"{path}: expected {len(ours)} {kind} layer(s) "
                             f"({[e.prefix for e in ours]}), the file has {len(theirs)} "
                             f"({[n for n, _ in theirs]})")
        for e, (name, arrays) in zip(ours, theirs):
            missing = sorted(set(e.layer.params) - set(arrays))
            if missing:
                raise ValueError(f"{path}: layer {name!r} has no {missing} for {e.prefix}")
            if kind == "bn":
                m, v = arrays["moving_mean"], arrays["moving_variance"]
                if bn_stats == "check" and not (np.all(m == 0) and np.all(v == 1)):
                    raise ValueError(
                        f"{path}: layer {name!r}: moving statistics are not (0, 1) (|mean| up to "
                        f"{np.abs(m).max():.3g}, variance in [{v.min():.3g}, {v.max():.3g}]), so these "
                        "weights were trained with batch statistics, unlike the paper's as-run "
                        "network. To use them anyway (inference then normalises with these "
                        "statistics, as Keras's inference mode does) pass bn_stats='load' "
                        "(CLI: --bn-stats load).")
                state[f"buffer/{e.prefix}.moving_mean"] = m
                state[f"buffer/{e.prefix}.moving_variance"] = v
            for key, value in arrays.items():
                if key in ("moving_mean", "moving_variance"):
                    continue
                target = e.layer.params.get(key)  # Keras and refmem share the variable names
                if target is None:
                    raise ValueError(f"{path}: layer {name!r} has {key!r}, {e.prefix} has no such parameter")
                if value.shape != target.shape:
                    raise ValueError(f"{path}: layer {name!r} {key} has shape {value.shape}, "
                                     f"{e.prefix}.{key} expects {target.shape}")
                state[f"param/{e.prefix}.{key}"] = value
    return state


def _build(arch: str, enc: list, dec: list, dtype, kwargs: dict):
    from refmem.neocortex.architectures import ARCHITECTURES

    if arch not in ARCHITECTURES:
        raise ValueError(f"arch must be one of {sorted(ARCHITECTURES)}, got {arch!r}")
    first_dense = [a for _, a in dec if _kind(a) == "dense"]
    if not first_dense:
        raise ValueError("the decoder file has no dense layer")
    kw = dict(kwargs)
    kw.setdefault("latent_dim", int(first_dense[0]["kernel"].shape[0]))
    if arch == "bow":
        kw.setdefault("vocab_size", int(first_dense[-1]["kernel"].shape[1]))
    if arch == "shapes3d":
        convs = [a["kernel"].shape[3] for _, a in enc if _kind(a) == "conv"]
        if len(convs) == 4:
            kw.setdefault("widths", tuple(int(c) for c in convs))
    return ARCHITECTURES[arch](dtype=dtype, **kw)


def load_keras_vae(arch: str, encoder_path, decoder_path=None, dtype=np.float32,
                   bn_stats: str = "check", **kwargs):
    """Build a refmem VAE of architecture ``arch`` holding the weights of Keras weight files.

    Parameters
    ----------
    arch : {"shapes3d", "mnist", "bow"}
    encoder_path, decoder_path : str or os.PathLike
        Keras 2 ``.h5`` or Keras 3 ``.weights.h5`` files of the encoder and the decoder
        (see the module docstring). With ``decoder_path=None``, ``encoder_path`` is one
        file of a whole VAE holding nested models ``encoder`` and ``decoder`` (what
        ``save_weights`` of the paper's ``VAE`` subclass writes, e.g. its DRM text VAE).
    dtype : float dtype, default float32
    bn_stats : {"check", "load"}
        "check": refuse batch-norm moving statistics other than (0, 1) with a
        ``ValueError`` that says what to do; "load": copy them into the BN buffers.
    **kwargs
        Passed to the architecture's constructor (``latent_dim``, ``widths`` and
        ``vocab_size`` are read from the files unless given).

    Returns
    -------
    VAE
        ``vae.save("vae.npz")`` gives a file every ``--vae`` option accepts.
    """
    if bn_stats not in ("check", "load"):
        raise ValueError(f"bn_stats must be 'check' or 'load', got {bn_stats!r}")
    if decoder_path is None:
        enc = read_keras_weights(encoder_path, part="encoder")
        dec = read_keras_weights(encoder_path, part="decoder")
        decoder_path = encoder_path
    else:
        enc = read_keras_weights(encoder_path)
        dec = read_keras_weights(decoder_path)
    vae = _build(arch, enc, dec, dtype, kwargs)
    entries = param_layers(vae)
    trunk, mu, lv = _split_heads(enc, encoder_path)
    state = vae.get_state()
    state.update(_assign([e for e in entries if e.role == "trunk"], trunk, encoder_path, bn_stats))
    for role, layer in (("mu", mu), ("log_var", lv)):
        state.update(_assign([e for e in entries if e.role == role], [layer], encoder_path, bn_stats))
    state.update(_assign([e for e in entries if e.part == "decoder"], dec, decoder_path, bn_stats))
    vae.set_state(state)
    return vae


def _keras_names(entries, arch: Optional[str]) -> Dict[str, str]:
    """Keras names as the paper's files have them: auto-names (conv2d, conv2d_1, ...;
    counters run on from encoder to decoder), the μ head ``mean`` and the log σ² head
    an unnamed ``dense`` (Shapes3D), or ``z_mean`` / ``z_log_var`` (MNIST, text)."""
    count: Dict[str, int] = {}
    names = {}
    for e in entries:
        if e.role == "mu":
            names[e.prefix] = "mean" if arch == "shapes3d" else "z_mean"
            continue
        if e.role == "log_var" and arch != "shapes3d":
            names[e.prefix] = "z_log_var"
            continue
        base = {"conv": "conv2d", "upconv": "conv2d", "convt": "conv2d_transpose",
                "dense": "dense", "bn": "batch_normalization"}[e.kind]
        k = count.get(base, 0)
        count[base] = k + 1
        names[e.prefix] = base if k == 0 else f"{base}_{k}"
    return names


def _layer_vars(e) -> List[Tuple[str, np.ndarray]]:
    arrays = dict(e.layer.params)
    if e.kind == "bn":
        arrays.update(e.layer.buffers)
    keys = _BN_KEYS if e.kind == "bn" else [k for k in ("kernel", "bias") if k in arrays]
    return [(k, arrays[k]) for k in keys]


def save_keras_h5(vae, encoder_path, decoder_path=None, keras3: bool = False) -> None:
    """Write a refmem VAE as Keras weight files (the inverse of :func:`load_keras_vae`).

    Parameters
    ----------
    vae : VAE
    encoder_path, decoder_path : str or os.PathLike
        Two files (encoder, decoder) or, with ``decoder_path=None``, one file of the
        whole VAE with nested models ``encoder`` and ``decoder``.
    keras3 : bool, default False
        False: Keras 2 ``.h5`` layout (``layer_names``, ``weight_names``, datasets
        ``<layer>/<layer>/<var>:0``; nested: ``encoder/<layer>/<var>:0``); True: Keras 3
        layout (``layers/<layer>/vars/<i>``; nested: ``encoder/layers/<layer>/vars/<i>``).
    """
    h5py = _h5py()
    entries = param_layers(vae)
    names = _keras_names(entries, (vae.config or {}).get("architecture"))
    if decoder_path is None:
        files = [(encoder_path, [("encoder/", "encoder"), ("decoder/", "decoder")])]
    else:
        files = [(encoder_path, [("", "encoder")]), (decoder_path, [("", "decoder")])]
    for path, parts in files:
        with h5py.File(os.fspath(path), "w") as f:
            if not keras3:
                top = [p[:-1] for p, _ in parts] if parts[0][0] else [
                    names[e.prefix] for e in entries if e.part == parts[0][1]]
                f.attrs["layer_names"] = [n.encode("utf8") for n in top]
                f.attrs["keras_version"] = b"2.11.0"
                f.attrs["backend"] = b"tensorflow"
            for scope, part in parts:
                for e in (e for e in entries if e.part == part):
                    name, variables = names[e.prefix], _layer_vars(e)
                    if keras3:
                        g = f.create_group(f"{scope}layers/{name}/vars")
                        for i, (_, v) in enumerate(variables):
                            g.create_dataset(str(i), data=v)
                        continue
                    g = f.require_group(scope[:-1] if scope else name)
                    wnames = [f"{name}/{k}:0" for k, _ in variables]
                    known = [_s(w) for w in g.attrs.get("weight_names", [])]
                    g.attrs["weight_names"] = [w.encode("utf8") for w in known + wnames]
                    for w, (_, v) in zip(wnames, variables):
                        g.create_dataset(w, data=v)
