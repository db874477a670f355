"""Conformance fixtures: float64 inputs and refmem's outputs for every building block.

``write_fixtures(DIR)`` (CLI: ``refmem fixtures --out DIR``) writes one ``<item>.npz``
per item, holding the item's inputs *and* refmem's outputs, plus ``manifest.json``:
for each item the file, the equation it checks, its hyper-parameters, the shapes of
its inputs and outputs, and its tolerance. Another implementation reads the inputs,
computes the outputs listed in the manifest, and writes them under the same names to
``THEIRS/<item>.npz``; :func:`refmem.interop.crosscheck.crosscheck` compares.

Items: every layer type forward and backward (Dense; Conv2D 'valid' and Keras 'same'
with asymmetric padding; nearest-upsample + conv; Conv2DTranspose 'same' with its
cropping; BN as run and with batch statistics; activations; pooling; upsampling), the
losses, the three VAEs' losses and all parameter gradients for a fixed ε, the modern
Hopfield update and energy, 10-step retrieval, replay from given noise, five AMSGrad
steps and the SVC probe's decision values. All arrays are float64 (labels, winners and
predictions int64) in refmem's (Keras) layouts: NHWC images, Dense ``(in, out)``,
Conv2D ``(kh, kw, in, out)``, Conv2DTranspose ``(kh, kw, out, in)``; the VAE items store
parameters as ``param/<refmem name>`` (see :mod:`refmem.interop.torch` for PyTorch).

Files are deterministic: the same refmem on the same machine writes the same bytes
(fixed seeds per item, fixed zip timestamps).
"""
from __future__ import annotations

import fnmatch
import io
import json
import os
import zipfile
import zlib
from typing import Dict, Iterable, List, Optional

import numpy as np

from refmem._utils import atomic_write_bytes, load_json, load_npz
from ._items import Item, layer_items, loss_items
from ._items_model import build_vae, model_items

__all__ = ["FORMAT", "items", "write_fixtures", "run_refmem", "load_manifest", "load_item",
           "save_outputs", "fixture_vae"]

FORMAT = "refmem.fixtures/1"
MANIFEST = "manifest.json"

CONVENTIONS = {
    "dtype": "float64 (int64 for labels, winners and predictions)",
    "images": "NHWC (batch, height, width, channels)",
    "dense kernel": "(in, out); y = x W + b",
    "conv2d kernel": "(kh, kw, in, out) (HWIO)",
    "conv2d_transpose kernel": "(kh, kw, out, in)",
    "vae parameters": "param/<refmem name>, buffer/<refmem name> (refmem.interop.torch maps them "
                      "to a PyTorch state_dict)",
    "gradients": "d_<param> (layers) or grad/<refmem name> (VAEs), of the scalar sum(y * dy) "
                 "(layers) or of the loss (VAEs)",
    "tolerance": "an output passes iff max|theirs - refmem| <= tol * max(1, max|refmem|)",
}


def items() -> List[Item]:
    """Every conformance item, in manifest order."""
    return layer_items() + loss_items() + model_items()


def _select(all_items: List[Item], patterns: Optional[Iterable[str]]) -> List[Item]:
    if not patterns:
        return all_items
    patterns = list(patterns)
    chosen = [it for it in all_items if any(fnmatch.fnmatch(it.name, p) for p in patterns)]
    if not chosen:
        raise ValueError(f"no item matches {patterns}; items: {[it.name for it in all_items]}")
    return chosen


def npz_bytes(arrays: Dict[str, np.ndarray]) -> bytes:
    """An uncompressed ``.npz`` whose bytes depend only on the arrays (fixed timestamps)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key in arrays:
            arr = np.asarray(arrays[key])
            if arr.dtype == object:
                raise TypeError(f"array {key!r} has dtype object")
            data = io.BytesIO()
            np.lib.format.write_array(data, np.array(arr, order="C"), allow_pickle=False)  # keeps 0-d
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            zf.writestr(info, data.getvalue())
    return buf.getvalue()


def save_outputs(path, arrays: Dict[str, np.ndarray]) -> None:
    """Write an item's arrays to ``path`` (deterministic ``.npz``, atomic)."""
    atomic_write_bytes(path, npz_bytes(arrays))


def _seed(name: str, seed: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), zlib.crc32(name.encode("utf8"))])


def _shapes(arrays: Dict[str, np.ndarray]) -> Dict[str, list]:
    return {k: list(np.shape(v)) for k, v in arrays.items()}


def _layouts(item: str, arrays: Dict[str, np.ndarray]) -> Dict[str, str]:
    """The memory layout of each multi-dimensional array of an item, for the manifest."""
    out = {}
    for k, v in arrays.items():
        base = k.rsplit("/", 1)[-1]
        if base.endswith("kernel") and v.ndim == 4:
            out[k] = "(kh, kw, out, in)" if ("transpose" in item or ".convt" in k) else "(kh, kw, in, out)"
        elif base.endswith("kernel") and v.ndim == 2:
            out[k] = "(in, out)"
        elif v.ndim == 4:
            out[k] = "NHWC"
    return out


def write_fixtures(out_dir, seed: int = 0, only: Optional[Iterable[str]] = None) -> dict:
    """Write ``<item>.npz`` files and ``manifest.json`` to ``out_dir``.

    Parameters
    ----------
    out_dir : str or os.PathLike
        Created if needed.
    seed : int, default 0
        Root seed of the inputs (each item derives its own stream from it and its name).
    only : iterable of str, optional
        Glob patterns of item names (default: every item).

    Returns
    -------
    dict
        The manifest.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    os.makedirs(out_dir, exist_ok=True)
    from refmem import __version__

    manifest = {"format": FORMAT, "refmem_version": __version__, "seed": int(seed),
                "conventions": CONVENTIONS, "items": []}
    for it in _select(items(), only):
        inputs = {k: np.asarray(v) for k, v in it.make(_seed(it.name, seed)).items()}
        outputs = it.compute(inputs, **it.params)
        missing = set(it.outputs) - set(outputs)
        if missing:  # pragma: no cover - a bug in an item definition
            raise RuntimeError(f"{it.name}: compute gave no {sorted(missing)}")
        outputs = {k: np.asarray(outputs[k]) for k in it.outputs}
        save_outputs(os.path.join(out_dir, f"{it.name}.npz"), {**inputs, **outputs})
        manifest["items"].append({"name": it.name, "file": f"{it.name}.npz", "checks": it.checks,
                                  "params": it.params, "inputs": _shapes(inputs),
                                  "outputs": _shapes(outputs), "layouts": _layouts(it.name, {**inputs, **outputs}),
                                  "tol": it.tol})
    text = json.dumps(manifest, indent=2, sort_keys=False) + "\n"
    atomic_write_bytes(os.path.join(out_dir, MANIFEST), text.encode("utf8"))
    return manifest


def load_manifest(fixtures_dir) -> dict:
    """Read and check ``manifest.json`` of a fixtures folder."""
    path = os.path.join(fixtures_dir, MANIFEST)
    if not os.path.isfile(path):
        raise ValueError(f"{fixtures_dir!r} has no {MANIFEST}; write fixtures with `refmem fixtures --out DIR`")
    manifest = load_json(path)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ValueError(f"{path}: format {getattr(manifest, 'get', lambda k: None)('format')!r}, expected {FORMAT!r}")
    return manifest


def load_item(fixtures_dir, name: str):
    """``(inputs, expected outputs, manifest entry)`` of one item of a fixtures folder."""
    entry = {e["name"]: e for e in load_manifest(fixtures_dir)["items"]}.get(name)
    if entry is None:
        raise ValueError(f"no item {name!r} in {fixtures_dir}")
    arrays = load_npz(os.path.join(fixtures_dir, entry["file"]))
    inputs = {k: arrays[k] for k in entry["inputs"]}
    return inputs, {k: arrays[k] for k in entry["outputs"]}, entry


def fixture_vae(fixtures_dir, name: str):
    """The float64 refmem VAE of a VAE item (``vae_shapes3d``, ``vae_mnist``, ``vae_bow``)
    holding that item's parameters and buffers; with
    :func:`refmem.interop.torch.to_torch_state_dict` it gives the weights of a port."""
    inputs, _, entry = load_item(fixtures_dir, name)
    params = dict(entry["params"])
    arch = params.pop("architecture", None)
    if arch is None:
        raise ValueError(f"item {name!r} is not a VAE item")
    return build_vae(arch, inputs, **params)


def run_refmem(fixtures_dir, out_dir, only: Optional[Iterable[str]] = None) -> List[str]:
    """Recompute every item's outputs from its inputs with refmem and write them to
    ``out_dir/<item>.npz`` (outputs only): what another implementation does.

    Returns
    -------
    list of str
        The items written.
    """
    known = {it.name: it for it in items()}
    manifest = load_manifest(fixtures_dir)
    os.makedirs(out_dir, exist_ok=True)
    done = []
    names = [e["name"] for e in manifest["items"]]
    if only:
        names = [n for n in names if any(fnmatch.fnmatch(n, p) for p in only)]
    for name in names:
        if name not in known:
            raise ValueError(f"item {name!r} of {fixtures_dir} is unknown to this refmem")
        it = known[name]
        inputs, _, entry = load_item(fixtures_dir, name)
        outputs = it.compute(inputs, **entry["params"])
        save_outputs(os.path.join(out_dir, f"{name}.npz"), {k: np.asarray(outputs[k]) for k in it.outputs})
        done.append(name)
    return done
