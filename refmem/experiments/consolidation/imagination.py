"""Analysis E7: imagination by class-conditioned sampling from the prior (docs/paper-experiments.md, E7).

A shape probe is fitted on the latent means of held-out scenes; ``n_samples`` latents
``z ~ N(0, I)`` are ranked by the probe's score for each class; the top ones are decoded
("imagined" scenes), re-encoded and re-classified by the same probe. The imagined scenes
should show the requested shape and differ from one another.
"""
from __future__ import annotations

from typing import Dict

import numpy as np

from refmem._utils import as_rng, check_array
from refmem.neocortex.recall import decode, encode_mu
from refmem.analysis.decoding import fit_probe

__all__ = ["mean_pairwise_mae", "imagination"]


def mean_pairwise_mae(images: np.ndarray) -> float:
    """Mean over distinct pairs (i < j) of the per-element mean absolute difference.

    Parameters
    ----------
    images : (N, ...) ndarray, N >= 2

    Returns
    -------
    float
        ``(2 / (N (N - 1))) Σ_{i<j} mean |x_i - x_j|`` (0 iff all images are equal).
    """
    a = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    if len(a) < 2:
        raise ValueError(f"need at least 2 images, got {len(a)}")
    total = sum(np.abs(a[i + 1:] - a[i]).mean(axis=1).sum() for i in range(len(a) - 1))
    return float(total / (len(a) * (len(a) - 1) / 2))


def imagination(vae, heldout_mu: np.ndarray, heldout_labels: np.ndarray, n_samples: int = 10000,
                top: int = 20, rng=None, probe_kind: str = "svc", reference=None) -> Dict:
    """E7: decode the prior samples that the shape probe ranks highest for each class.

    Parameters
    ----------
    vae : refmem.neocortex.vae.VAE
    heldout_mu : (N, L) ndarray
        Latent means of held-out scenes (the probe's training set, paper: all 1,500).
    heldout_labels : (N,) ndarray of int
        Shape labels.
    n_samples : int
        Prior samples z ~ N(0, I_L) (paper: 10,000).
    top : int
        Samples kept per class (paper: 20).
    reference : (M, H, W, C) ndarray, optional
        Real scenes; the diversity of the first ``top`` of them is reported for scale.

    Returns
    -------
    dict
        ``fraction_requested_by_class`` (re-classified as the requested shape),
        ``fraction_requested`` (mean over classes), ``min_fraction_requested``,
        ``diversity_by_class`` (:func:`mean_pairwise_mae` of the decoded images),
        ``reference_diversity`` (same statistic on ``reference`` scenes, for scale) and
        ``passed`` (>= 80% for every class and every diversity > 0). ``arrays`` holds
        the decoded top samples ``(K, top, H, W, C)``.
    """
    heldout_mu = check_array(heldout_mu, "heldout_mu", ndim=2)
    labels = check_array(heldout_labels, "heldout_labels", shape=(len(heldout_mu),), dtype_kind="iu")
    rng = as_rng(rng)
    probe = fit_probe(heldout_mu, labels, probe_kind)
    z = rng.standard_normal((n_samples, heldout_mu.shape[1]))  # z ~ N(0, I)
    scores = probe.class_scores(z)  # (n_samples, K), scaler fitted on mu applied to z
    frac, div, grids = {}, {}, []
    for k, cls in enumerate(probe.classes_):
        best = np.argsort(-scores[:, k], kind="stable")[:top]
        x = decode(vae, z[best].astype(vae.dtype))
        pred = probe.predict(encode_mu(vae, x).astype(np.float64))
        frac[str(int(cls))] = float(np.mean(pred == cls))
        div[str(int(cls))] = mean_pairwise_mae(x) if top >= 2 else float("nan")
        grids.append(x)
    out = {"n_samples": int(n_samples), "top": int(top),
           "fraction_requested_by_class": frac,
           "fraction_requested": float(np.mean(list(frac.values()))),
           "min_fraction_requested": float(min(frac.values())),
           "diversity_by_class": div,
           "min_diversity": float(min(div.values()))}
    if reference is not None and top >= 2:
        out["reference_diversity"] = mean_pairwise_mae(np.asarray(reference)[:top])
    out["passed"] = bool(out["min_fraction_requested"] >= 0.8 and out["min_diversity"] > 0)
    out["arrays"] = {"samples": np.stack(grids), "classes": np.asarray(probe.classes_)}
    return out
