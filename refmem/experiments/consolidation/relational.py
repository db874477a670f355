"""Analysis E6: relational inference by latent vector arithmetic (docs/paper-experiments.md, E6).

"A is to B as C is to ?": with ``z* = mu(C) + (mu(B) - mu(A))`` the change from A to B is
applied to C. Triples are built from the ground-truth factors of the renderer, so the
right answer is known: A and B differ in exactly one factor f, C has A's value of f (and
differs from A elsewhere), and the answer D is C with f set to B's value. The decoded
``z*`` is re-encoded and a probe for factor f, fitted on held-out latent means, reads
off the value it shows; success is B's value (chance 1 / number of values of f).
"""
from __future__ import annotations

from typing import Dict

import numpy as np

from refmem._utils import as_rng, check_array
from refmem.neocortex.recall import decode, encode_mu
from refmem.analysis.decoding import fit_probe

__all__ = ["make_triples", "relational_inference"]


def make_triples(n: int, rng=None, factor_sizes=None) -> Dict[str, np.ndarray]:
    """Random analogy triples of factor indices (docs/paper-experiments.md, E6 acceptance).

    Parameters
    ----------
    n : int
        Number of triples.
    rng : Generator or seed
    factor_sizes : sequence of int, optional
        Values per factor (default the Shapes3D ``FACTOR_SIZES``).

    Returns
    -------
    dict of ndarrays
        ``A``, ``B``, ``C``, ``D`` : (n, F) int factor indices; ``factor`` : (n,) the
        factor f changed from A to B. ``B = A`` except ``B[f] != A[f]``; ``C[f] = A[f]`` and
        ``C != A``; ``D = C`` with ``D[f] = B[f]`` (the expected answer).
    """
    if factor_sizes is None:
        from refmem.datasets.shapes3d import FACTOR_SIZES as factor_sizes
    sizes = np.asarray(factor_sizes, dtype=np.int64)
    rng = as_rng(rng)
    F = len(sizes)
    out = {k: np.zeros((n, F), np.int64) for k in "ABCD"}
    factor = rng.integers(F, size=n)
    for i, f in enumerate(factor):
        a = rng.integers(sizes)
        b = a.copy()
        b[f] = (a[f] + rng.integers(1, sizes[f])) % sizes[f]  # any value but A's
        c = a
        while np.array_equal(c, a):  # C differs from A in some factor other than f
            c = rng.integers(sizes)
            c[f] = a[f]  # C shares A's value of f
        d = c.copy()
        d[f] = b[f]
        for k, v in zip("ABCD", (a, b, c, d)):
            out[k][i] = v
    out["factor"] = factor
    return out


def relational_inference(vae, heldout_mu: np.ndarray, heldout_factors: np.ndarray, n_triples: int = 100,
                         rng=None, supersample: int = 2, probe_kind: str = "svc") -> Dict:
    """E6: decode ``mu(C) + mu(B) - mu(A)`` and read the changed factor with a probe.

    Parameters
    ----------
    vae : refmem.neocortex.vae.VAE
    heldout_mu : (N, L) ndarray
        Latent means of held-out scenes (fit set of the factor probes).
    heldout_factors : (N, F) ndarray of int
        Their ground-truth factor indices.
    n_triples : int
        Number of analogies (the acceptance asks for >= 100).
    supersample : int
        Renderer anti-aliasing (as the training scenes).

    Returns
    -------
    dict
        ``accuracy`` (fraction of triples whose re-encoded ``z*`` is assigned B's value of
        f), ``chance`` (mean over triples of 1 / n_values(f)), ``ratio_to_chance``,
        ``fraction_kept_A_value`` (assigned A's old value instead), ``accuracy_by_factor``,
        ``probe_accuracy_on_D`` (the probe on the true answer's own mu: an upper bound),
        ``passed`` (accuracy >= 2 x chance). ``arrays`` holds A, B, C, decoded, D images.
    """
    from refmem.datasets.shapes3d import FACTOR_NAMES, FACTOR_SIZES, render

    heldout_mu = check_array(heldout_mu, "heldout_mu", ndim=2)
    heldout_factors = check_array(heldout_factors, "heldout_factors", ndim=2, dtype_kind="iu")
    tri = make_triples(n_triples, rng, FACTOR_SIZES)
    imgs = render(np.concatenate([tri[k] for k in "ABCD"]), supersample=supersample)
    imgs = np.asarray(imgs, dtype=vae.dtype)
    mu = encode_mu(vae, imgs).reshape(4, n_triples, -1)
    z_star = mu[2] + mu[1] - mu[0]  # z* = mu(C) + (mu(B) - mu(A))
    decoded = decode(vae, z_star)
    mu_star = encode_mu(vae, decoded).astype(np.float64)
    f_all = tri["factor"]
    pred = np.empty(n_triples, np.int64)
    pred_d = np.empty(n_triples, np.int64)
    for f in np.unique(f_all):
        rows = f_all == f
        probe = fit_probe(heldout_mu, heldout_factors[:, f], probe_kind)
        pred[rows] = probe.predict(mu_star[rows])
        pred_d[rows] = probe.predict(mu[3][rows].astype(np.float64))
    b_val = tri["B"][np.arange(n_triples), f_all]
    a_val = tri["A"][np.arange(n_triples), f_all]
    hit = pred == b_val
    chance = float(np.mean(1.0 / np.asarray(FACTOR_SIZES)[f_all]))
    out = {"n_triples": int(n_triples), "accuracy": float(hit.mean()), "chance": chance,
           "ratio_to_chance": float(hit.mean() / chance),
           "fraction_kept_A_value": float(np.mean(pred == a_val)),
           "probe_accuracy_on_D": float(np.mean(pred_d == b_val)),
           "accuracy_by_factor": {FACTOR_NAMES[f]: float(hit[f_all == f].mean()) for f in np.unique(f_all)},
           "triples_by_factor": {FACTOR_NAMES[f]: int(np.sum(f_all == f)) for f in np.unique(f_all)}}
    out["passed"] = bool(out["accuracy"] >= 2 * chance)
    k = min(n_triples, 8)
    imgs = imgs.reshape((4, n_triples) + imgs.shape[1:])
    out["arrays"] = {"A": imgs[0, :k], "B": imgs[1, :k], "C": imgs[2, :k], "decoded": decoded[:k],
                     "D": imgs[3, :k]}
    return out
