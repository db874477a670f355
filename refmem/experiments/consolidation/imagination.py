"""Analysis E7: imagination by class-conditioned sampling from the prior (docs/paper-experiments.md, E7).

A shape probe with class probabilities is fitted on the latent means of held-out
scenes; ``n_samples`` latents ``z ~ N(0, I)`` are ranked by the probe's probability of
each class; the top ones are decoded
("imagined" scenes), re-encoded and re-classified by the same probe. The imagined scenes
should show the requested shape and differ from one another.

A diagnostic goes with it. The probe standardises its inputs with the mean and SD of
the held-out latent means; a latent dimension the VAE does not use (its posterior stays
the prior: held-out ``mu`` barely varies, SD < :data:`INACTIVE_SD`) has a tiny SD, so in
a prior sample that dimension is scaled up many times over, dominates the RBF kernel's
distances and buries the dimensions that code shape: the ranking then says little about
the shape the sample decodes to. The analysis therefore also ranks the same prior
samples by the probe's probabilities with the unused dimensions held at their held-out
mean, decodes the top ones (the prior samples themselves, unchanged) and scores them as
above, reported under ``diagnostics`` with how much holding those dimensions changes the
decoded scenes (the decoder should ignore them); the criteria judge the as-run
procedure only.
"""
from __future__ import annotations

from typing import Dict

import numpy as np
from scipy.stats import binomtest

from refmem._utils import as_rng, check_array
from refmem.neocortex.recall import decode, encode_mu

__all__ = ["mean_pairwise_mae", "imagination", "INACTIVE_SD"]

#: held-out ``mu`` SD below which a latent dimension counts as unused (E7 diagnostic)
INACTIVE_SD = 0.1


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
    """E7: decode the prior samples that the shape probe finds most probable for each class.

    As the paper's code: a probe with class probabilities (StandardScaler + RBF SVC with
    Platt scaling, ``SVC(probability=True)``) is fitted on the latent means of held-out
    scenes; prior samples are ranked by ``P(class | z)`` and the top ones decoded. The
    paper showed class 0 (cube) only; the other classes are an extension. The decoded
    scenes are re-encoded and re-classified by the same probe; the number re-classified
    as requested is tested against chance (1 / number of classes) with a one-sided
    binomial test (``scipy.stats.binomtest``).

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
        The real scenes whose latent means are ``heldout_mu`` (same order); the
        diversity of ``top`` of them of each class is the scale of that class's diversity.

    Returns
    -------
    dict
        ``fraction_requested_by_class`` (re-classified as the requested shape),
        ``p_value_by_class`` (binomial test against chance), ``fraction_requested`` (mean
        over classes), ``min_fraction_requested``, ``diversity_by_class``
        (:func:`mean_pairwise_mae` of the decoded images), ``min_diversity``,
        ``reference_diversity`` (``top`` real scenes), ``reference_diversity_by_class``
        (``top`` real scenes of the class), ``min_diversity_vs_reference`` (min over
        classes of the ratio of the two); under ``controls``: ``unranked`` (the first ``top``
        prior samples, not ranked by the probe) and ``constant`` (a decoder that always
        outputs the same scene); under ``diagnostics``: ``latent_sd`` (SD of ``heldout_mu``
        per dimension), ``inactive_dims`` (indices with SD < :data:`INACTIVE_SD`) and, when
        there are any, ``ranked_with_unused_at_mean`` (the same numbers for the top prior
        samples ranked with those dimensions set to their held-out mean, plus
        ``decoded_change_mae``: mean absolute difference between the decoded samples and
        the decoded samples with those dimensions set so). ``arrays`` holds the decoded top
        samples ``(K, top, H, W, C)``.
    """
    from refmem.analysis.probes import make_probe

    heldout_mu = check_array(heldout_mu, "heldout_mu", ndim=2)
    labels = check_array(heldout_labels, "heldout_labels", shape=(len(heldout_mu),), dtype_kind="iu")
    rng = as_rng(rng)
    probe = make_probe("svc", probability=True, rng=rng) if probe_kind == "svc" else make_probe(probe_kind)
    probe.fit(np.asarray(heldout_mu, dtype=np.float64), labels)
    z = rng.standard_normal((n_samples, heldout_mu.shape[1]))  # z ~ N(0, I)
    proba = probe.predict_proba(z)  # (n_samples, K), scaler fitted on mu applied to z
    classes = probe.classes_
    ref_div, ref_by_class = None, {}
    if reference is not None and top >= 2:  # real scenes, in the order of heldout_mu
        reference = np.asarray(reference)
        ref_div = mean_pairwise_mae(reference[:top])
        for cls in classes:
            own = reference[np.flatnonzero(labels[:len(reference)] == cls)[:top]]
            ref_by_class[str(int(cls))] = mean_pairwise_mae(own) if len(own) >= 2 else float("nan")

    def numbers(images_by_class):
        frac, pval, div = {}, {}, {}
        for cls, x in zip(classes, images_by_class):
            hits = int(np.sum(probe.predict(encode_mu(vae, x).astype(np.float64)) == cls))
            frac[str(int(cls))] = hits / len(x)
            pval[str(int(cls))] = float(binomtest(hits, len(x), 1.0 / len(classes), alternative="greater").pvalue)
            div[str(int(cls))] = mean_pairwise_mae(x) if len(x) >= 2 else float("nan")
        ratio = [div[c] / ref_by_class[c] for c in div if c in ref_by_class]
        return {"fraction_requested_by_class": frac, "p_value_by_class": pval,
                "fraction_requested": float(np.mean(list(frac.values()))),
                "min_fraction_requested": float(min(frac.values())), "diversity_by_class": div,
                "min_diversity": float(min(div.values())), "reference_diversity": ref_div,
                "reference_diversity_by_class": ref_by_class,
                "min_diversity_vs_reference": float(min(ratio)) if ratio else float("nan")}

    def top_of(p):
        return [np.argsort(-p[:, k], kind="stable")[:top] for k in range(len(classes))]

    grids = [decode(vae, z[i].astype(vae.dtype)) for i in top_of(proba)]
    out = {"n_samples": int(n_samples), "top": int(top), **numbers(grids)}
    unranked = decode(vae, z[:top].astype(vae.dtype))  # prior samples in the order drawn
    out["controls"] = {"unranked": numbers([unranked] * len(classes)),
                       "constant": numbers([np.broadcast_to(g[:1], g.shape) for g in grids])}
    sd = np.std(heldout_mu, axis=0, dtype=np.float64)
    inactive = np.flatnonzero(sd < INACTIVE_SD)
    out["diagnostics"] = {"latent_sd": [float(v) for v in sd], "inactive_dims": [int(i) for i in inactive]}
    if len(inactive):
        z_held = z.copy()
        z_held[:, inactive] = np.mean(heldout_mu, axis=0, dtype=np.float64)[inactive]
        idx = top_of(probe.predict_proba(z_held))
        held_grids = [decode(vae, z[i].astype(vae.dtype)) for i in idx]
        change = np.mean([np.mean(np.abs(g - decode(vae, z_held[i].astype(vae.dtype)))) for g, i in zip(held_grids, idx)])
        out["diagnostics"]["ranked_with_unused_at_mean"] = {**numbers(held_grids), "decoded_change_mae": float(change)}
    out["arrays"] = {"samples": np.stack(grids), "classes": np.asarray(classes)}
    return out
