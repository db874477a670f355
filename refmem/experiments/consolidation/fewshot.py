"""Analysis E8: few-shot learning from the consolidated representations (docs/paper-experiments.md, E8).

A shape probe is fitted on the first ``n`` training scenes (the memories' original
images, as the paper used its training images) for n in 10 ... 1,000, represented as raw
pixels, as each encoder convolution's raw output (before batch norm and activation,
``VAE.encoder_activations``), or as the latent mean ``mu``; it is scored on held-out
scenes. The semantic code ``mu`` should need far fewer examples than pixels.
"""
from __future__ import annotations

from typing import Dict, List, Sequence

import numpy as np

from refmem._utils import check_array
from refmem.neocortex.recall import EVAL_BATCH
from refmem.analysis.decoding import fit_probe

__all__ = ["representations", "few_shot"]


def representations(vae, images: np.ndarray, layers: Sequence[str], batch: int = EVAL_BATCH) -> Dict[str, np.ndarray]:
    """Flattened representations of ``images`` at every level of the encoder.

    Parameters
    ----------
    vae : refmem.neocortex.vae.VAE
    images : (N, H, W, C) ndarray
    layers : sequence of str
        Encoder layer names for ``vae.encoder_activations`` (raw conv outputs).

    Returns
    -------
    dict
        ``"pixels"`` (N, H*W*C), one entry per layer (N, h*w*c), and ``"mu"`` (N, L),
        in this order (increasing depth).
    """
    images = check_array(images, "images", ndim=4)
    x = np.ascontiguousarray(images, dtype=vae.dtype)
    out: Dict[str, np.ndarray] = {"pixels": x.reshape(len(x), -1)}
    names = list(layers) + ["mu"]  # one encoder pass; "mu" == encode(x)[0]
    for i in range(0, len(x), batch):
        acts = vae.encoder_activations(x[i:i + batch], names)
        for name in names:
            a = np.asarray(acts[name]).reshape(len(acts[name]), -1)
            if name not in out:  # filled batch by batch (no list + concatenation copy)
                out[name] = np.empty((len(x), a.shape[1]), a.dtype)
            out[name][i:i + len(a)] = a
    return out


def few_shot(vae, train_images: np.ndarray, train_labels: np.ndarray, test_images: np.ndarray,
             test_labels: np.ndarray, sizes: Sequence[int], layers: Sequence[str] = (),
             probe_kind: str = "svc", untrained_vae=None) -> Dict:
    """E8: probe accuracy vs number of training examples, per representation.

    Parameters
    ----------
    vae : refmem.neocortex.vae.VAE
    train_images : (M, H, W, C) ndarray
        Training scenes; the probe for size n uses the first n.
    train_labels : (M,) ndarray of int
    test_images : (T, H, W, C) ndarray
    test_labels : (T,) ndarray of int
    sizes : sequence of int
        Training-set sizes (paper: 10, 20, 50, 100, 200, 300, 400, 500, 1000); sizes
        above M are dropped.
    layers : sequence of str
        Encoder layers (raw conv outputs) to include between pixels and mu.
    untrained_vae : VAE, optional
        The same architecture before training; the same numbers for it go to
        ``controls["untrained"]`` (its pixel curve is the trained VAE's when both VAEs
        have the same dtype: raw pixels in one dtype do not depend on the VAE).

    Returns
    -------
    dict
        ``sizes`` (those used), ``representations`` (names by depth), ``accuracy``
        (name -> list over sizes; NaN when the first n labels hold < 2 classes),
        ``min_gap_small_n`` (min over sizes <= 200 of mu - pixels), ``gap_at_100``
        (mu - pixels at n = 100, if used), ``depth_spearman_at_100`` (Spearman of
        accuracy with depth at n = 100) and, with ``untrained_vae``,
        ``mu_gain_over_untrained`` (mean over sizes <= 200 of mu - the untrained VAE's mu).
    """
    train_labels = check_array(train_labels, "train_labels", ndim=1, dtype_kind="iu")
    test_labels = check_array(test_labels, "test_labels", ndim=1, dtype_kind="iu")
    used = [int(n) for n in sizes if int(n) <= len(train_labels)]
    if not used:
        raise ValueError(f"no few-shot size fits the {len(train_labels)} training scenes (sizes {list(sizes)})")
    args = (np.asarray(train_images)[:max(used)], train_labels, test_images, test_labels, used, layers, probe_kind)
    out = _curves(vae, *args)
    if untrained_vae is not None:  # raw pixels in the same dtype do not depend on the VAE: one curve
        same = np.dtype(untrained_vae.dtype) == np.dtype(vae.dtype)
        ctl = _curves(untrained_vae, *args, pixels=out["accuracy"]["pixels"] if same else None)
        small = [i for i, n in enumerate(used) if n <= 200]
        out["mu_gain_over_untrained"] = _nanmean([out["accuracy"]["mu"][i] - ctl["accuracy"]["mu"][i] for i in small])
        ctl["mu_gain_over_untrained"] = 0.0  # the untrained VAE against itself
        out["controls"] = {"untrained": ctl}
    return out


def _nanmean(v) -> float:
    v = np.asarray(v, dtype=np.float64)
    return float(np.mean(v[np.isfinite(v)])) if np.isfinite(v).any() else float("nan")


def _score(probe, features: np.ndarray, labels: np.ndarray, chunk: int = 250) -> float:
    """Accuracy of ``probe`` on ``features``, ``chunk`` rows at a time: the probe (float64,
    :func:`~refmem.analysis.decoding.fit_probe`) classifies rows independently, so this
    gives the same predictions as one standardised float64 copy of the whole test set,
    which for the first convolution's 30,752 features is 184 MB."""
    hits = 0
    for a in range(0, len(features), chunk):
        pred = probe.predict(features[a:a + chunk])
        hits += int(np.sum(pred == labels[a:a + chunk]))
    return hits / len(labels)


def _curves(vae, train_images, train_labels, test_images, test_labels, used, layers, probe_kind,
            pixels=None) -> Dict:
    """Accuracy per representation and size.

    ``pixels``: the pixel curve already measured on the same images (in ``vae.dtype``),
    labels, sizes and probe, taken as is instead of being measured again.
    """
    from refmem.analysis.stats import spearman

    if pixels is not None and len(pixels) != len(used):
        raise ValueError(f"pixels must hold one accuracy per size ({len(used)}), got {len(pixels)}")

    tr = representations(vae, train_images, layers)
    te = representations(vae, test_images, layers)
    acc: Dict[str, List[float]] = {name: [] for name in tr}
    if pixels is not None:
        acc["pixels"] = list(pixels)
    measured = [name for name in tr if pixels is None or name != "pixels"]
    for n in used:
        y = train_labels[:n]
        for name in measured:
            if len(np.unique(y)) < 2:  # docs/paper-experiments.md, E8: NaN when < 2 classes present
                acc[name].append(float("nan"))
                continue
            probe = fit_probe(tr[name][:n], y, probe_kind)
            acc[name].append(_score(probe, te[name], test_labels))
    gaps = [acc["mu"][i] - acc["pixels"][i] for i, n in enumerate(used) if n <= 200]
    finite = [g for g in gaps if np.isfinite(g)]
    out: Dict[str, object] = {"sizes": used, "representations": list(tr), "accuracy": acc,
                              "n_test": int(len(test_labels)),
                              "min_gap_small_n": float(min(finite)) if finite else float("nan")}
    if 100 in used:
        i = used.index(100)
        out["gap_at_100"] = acc["mu"][i] - acc["pixels"][i]
        depth = [acc[name][i] for name in tr]
        out["depth_spearman_at_100"] = float(spearman(np.arange(len(depth)), np.asarray(depth))[0])
    return out
