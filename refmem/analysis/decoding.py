"""Semantic decoding: how well a label can be read out of a representation.

* :func:`probe_split`: disjoint fit/test index sets (fixed for a whole run).
* :func:`fit_probe`: the paper's probe (standardised RBF SVC by default) on float64 features.
* :func:`decoding_accuracy`: fit on one split, score on the other.

Internal helpers of the consolidation process and the experiments: they trust their
callers' arrays; the probe (:class:`refmem.analysis.probes.Probe`) validates the features
and labels it is fitted and scored on.
"""
from __future__ import annotations

from typing import Tuple

import numpy as np

from refmem._utils import as_rng, check_array, check_float_array, check_int
from refmem.analysis.probes import make_probe

__all__ = ["probe_split", "fit_probe", "decoding_accuracy"]


def probe_split(n: int, n_fit: int, n_test: int, rng) -> Tuple[np.ndarray, np.ndarray]:
    """Disjoint random index sets (fit, test) of sizes ``n_fit`` and ``n_test`` from ``range(n)``.

    As docs/paper-experiments.md, 1.9 (a random 50/50 split of the test images, the probe fitted on the
    first 200 of one half and scored on the other half), with the sizes as parameters.
    """
    n, n_fit, n_test = check_int(n, "n", 0), check_int(n_fit, "n_fit", 0), check_int(n_test, "n_test", 0)
    if n_fit + n_test > n:
        raise ValueError(f"n_fit + n_test ({n_fit} + {n_test}) must not exceed n ({n})")
    perm = as_rng(rng).permutation(n)
    return np.sort(perm[:n_fit]), np.sort(perm[n_fit:n_fit + n_test])


def _index(idx, name: str, n: int) -> np.ndarray:
    idx = check_array(idx, name, ndim=1, dtype_kind="iu", min_size=1)
    if idx.min() < 0 or idx.max() >= n:
        raise ValueError(f"{name} must index the {n} items, got values in [{idx.min()}, {idx.max()}]")
    return idx


def fit_probe(features: np.ndarray, labels: np.ndarray, kind: str = "svc"):
    """Fit ``refmem.analysis.probes.make_probe(kind)`` (scaler + classifier) on float64 features.

    The probe standardises into float64 (``Probe(dtype=float64)``): float32 features give
    the same probe as their float64 copy, without making that copy; it also standardises
    what it is later scored on into float64.
    """
    probe = make_probe(kind, dtype=np.float64)
    probe.fit(np.asarray(features), np.asarray(labels))
    return probe


def decoding_accuracy(mu: np.ndarray, labels: np.ndarray, fit_idx: np.ndarray, test_idx: np.ndarray,
                      kind: str = "svc") -> float:
    """Accuracy of a probe fitted on ``mu[fit_idx]`` and scored on ``mu[test_idx]`` (docs/paper-experiments.md, 1.9).

    Parameters
    ----------
    mu : (N, L) ndarray
        Latent means of held-out scenes.
    labels : (N,) ndarray of int
        The decoded label (object shape in the paper; 4 classes, chance 0.25).
    fit_idx, test_idx : (n_fit,), (n_test,) ndarray of int

    Returns
    -------
    float
        Fraction of test items classified correctly; NaN if the fit set holds fewer than
        two classes (a probe cannot be fitted).
    """
    mu = check_float_array(mu, "mu", ndim=2, min_size=1)
    labels = check_array(labels, "labels", shape=(len(mu),))
    fit_idx, test_idx = (_index(i, name, len(mu)) for i, name in ((fit_idx, "fit_idx"), (test_idx, "test_idx")))
    if len(np.unique(labels[fit_idx])) < 2:
        return float("nan")
    probe = fit_probe(mu[fit_idx], labels[fit_idx], kind)
    return float(probe.score(np.asarray(mu[test_idx], dtype=np.float64), labels[test_idx]))
