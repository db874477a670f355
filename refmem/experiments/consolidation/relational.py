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
    """E6: decode ``mu(C) + mu(B) - mu(A)`` and read factors off it with probes.

    Per triple, the changed factor f should show B's value, and a factor g != f on which
    C and B differ (drawn at random) should keep C's value: the change is *applied to C*.
    The triples are controlled by the ground-truth factors (the paper's code took A and C
    of one shape and a random B; docs/paper-experiments.md, E6).

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
        ``kept_c`` (fraction assigned C's value of g), ``chance_g``, ``kept_c_ratio``,
        ``fraction_kept_A_value`` (assigned A's old value of f instead),
        ``accuracy_by_factor``, ``probe_accuracy_on_D`` (the probes on the true answer's
        own mu: an upper bound); under ``controls`` the same for decoders that return B
        (``returns_b``) or C (``returns_c``) whatever the code. ``arrays`` holds A, B, C,
        decoded, D images.
    """
    from refmem.datasets.shapes3d import FACTOR_NAMES, FACTOR_SIZES, render

    heldout_mu = check_array(heldout_mu, "heldout_mu", ndim=2)
    heldout_factors = check_array(heldout_factors, "heldout_factors", ndim=2, dtype_kind="iu")
    rng = as_rng(rng)
    tri = make_triples(n_triples, rng, FACTOR_SIZES)
    rows = np.arange(n_triples)
    f_all = tri["factor"]
    g_all = np.array([rng.choice(np.flatnonzero((c != b) & (np.arange(len(c)) != f)))
                      for c, b, f in zip(tri["C"], tri["B"], f_all)])  # C differs from B there
    imgs = render(np.concatenate([tri[k] for k in "ABCD"]), supersample=supersample)
    imgs = np.asarray(imgs, dtype=vae.dtype)
    mu = encode_mu(vae, imgs).reshape(4, n_triples, -1)
    z_star = mu[2] + mu[1] - mu[0]  # z* = mu(C) + (mu(B) - mu(A))
    decoded = decode(vae, z_star)
    probes = {f: fit_probe(heldout_mu, heldout_factors[:, f], probe_kind) for f in np.unique(np.r_[f_all, g_all])}

    def read(m, factor):  # probe for factor[i] applied to row i of m
        m = np.asarray(m, dtype=np.float64)
        pred = np.empty(n_triples, np.int64)
        for f in np.unique(factor):
            pred[factor == f] = probes[f].predict(m[factor == f])
        return pred

    sizes = np.asarray(FACTOR_SIZES)
    chance, chance_g = float(np.mean(1.0 / sizes[f_all])), float(np.mean(1.0 / sizes[g_all]))
    b_val, c_val = tri["B"][rows, f_all], tri["C"][rows, g_all]

    def numbers(m):
        hit, kept = read(m, f_all) == b_val, read(m, g_all) == c_val
        return {"accuracy": float(hit.mean()), "chance": chance, "ratio_to_chance": float(hit.mean() / chance),
                "kept_c": float(kept.mean()), "chance_g": chance_g, "kept_c_ratio": float(kept.mean() / chance_g),
                "by_factor": {FACTOR_NAMES[f]: float(hit[f_all == f].mean()) for f in np.unique(f_all)}}

    mu_star = encode_mu(vae, decoded)
    out = {"n_triples": int(n_triples), **numbers(mu_star)}
    out["accuracy_by_factor"] = out.pop("by_factor")
    out["fraction_kept_A_value"] = float(np.mean(read(mu_star, f_all) == tri["A"][rows, f_all]))
    out["probe_accuracy_on_D"] = float(np.mean(read(mu[3], f_all) == b_val))
    out["triples_by_factor"] = {FACTOR_NAMES[f]: int(np.sum(f_all == f)) for f in np.unique(f_all)}
    out["controls"] = {"returns_b": numbers(mu[1]), "returns_c": numbers(mu[2])}  # decode -> B (or C), re-encoded
    k = min(n_triples, 8)
    imgs = imgs.reshape((4, n_triples) + imgs.shape[1:])
    out["arrays"] = {"A": imgs[0, :k], "B": imgs[1, :k], "C": imgs[2, :k], "decoded": decoded[:k],
                     "D": imgs[3, :k]}
    return out
