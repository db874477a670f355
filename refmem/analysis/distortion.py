"""Statistics of prototypical distortion: does recall shrink the variability within a class?

paper.md E10: for each class, the per-pixel population variance across the class's
images, before recall (the inputs) and after (the recalls); a paired t-test over all
(class, pixel) pairs; Cohen's d of the paired differences; and the distance of each
image to its class's mean image.

* :func:`class_pixel_variance`: ``v[c, p] = Var_{i in c}(x_ip)`` (ddof 0).
* :func:`paired_test`: ``scipy.stats.ttest_rel(after, before)`` with its 95 % CI,
  and ``d = mean(after - before) / sd(after - before)`` (population sd).
* :func:`prototype_distance`: ``|| x_i - m_{c(i)} ||`` with ``m_c`` the class mean of a
  reference set (the inputs).

Examples
--------
>>> x = np.array([[0., 0.], [2., 2.], [1., 0.], [1., 4.]])       # 4 images of 2 pixels
>>> class_pixel_variance(x, np.array([0, 0, 1, 1]))
array([[1., 1.],
       [0., 4.]])
>>> r = paired_test([1.0, 2.0, 3.0], [0.5, 1.0, 2.0])
>>> round(r["mean_diff"], 4), round(r["cohens_d"], 4)
(-0.8333, -3.5355)
"""
from __future__ import annotations

from typing import Any, Dict, Optional

import numpy as np

from refmem._utils import check_array, check_float_array, check_magnitude, check_real

__all__ = ["class_pixel_variance", "paired_test", "prototype_distance", "class_means"]


def _check_labeled(images: Any, labels: Any, name: str = "images") -> tuple:
    x = check_magnitude(check_float_array(images, name, min_size=1), name)
    if x.ndim < 2:
        raise ValueError(f"{name} must have shape (N, ...) with N >= 1 images, got {x.shape}")
    y = check_array(labels, "labels", ndim=1, shape=(x.shape[0],), dtype_kind="iu")
    return x.reshape(len(x), -1).astype(np.float64), y.astype(np.int64)


def _per_class(images: Any, labels: Any, classes: Optional[Any], stat) -> np.ndarray:
    """(K, P): ``stat`` of each class's (n_c, P) rows, classes in ``classes`` order."""
    x, y = _check_labeled(images, labels)
    classes = np.unique(y) if classes is None else np.asarray(classes)
    out = np.empty((len(classes), x.shape[1]))
    for k, c in enumerate(classes):
        member = y == c
        if not member.any():
            raise ValueError(f"class {c} has no images")
        out[k] = stat(x[member])
    return out


def class_means(images: Any, labels: Any, classes: Optional[Any] = None) -> np.ndarray:
    """Mean image of each class: ``m[c] = mean_{i: y_i = c} x_i``, shape (K, P) flattened.

    ``classes`` (default: the sorted distinct labels) fixes the row order.
    """
    return _per_class(images, labels, classes, lambda v: v.mean(axis=0))  # m_c = mean_{i in c} x_i


def class_pixel_variance(images: Any, labels: Any, classes: Optional[Any] = None) -> np.ndarray:
    """Per-class, per-pixel population variance (ddof 0) across the class's images.

    Parameters
    ----------
    images : (N, ...) array_like
        Any image shape; flattened to P values per image.
    labels : (N,) int array_like
    classes : array_like, optional
        Class order of the rows (default: sorted distinct labels).

    Returns
    -------
    (K, P) float64 ndarray
        ``v[c, p] = mean_{i in c} (x_ip - m_cp)^2``.
    """
    return _per_class(images, labels, classes, lambda v: v.var(axis=0))  # ddof = 0: population variance


def paired_test(before: Any, after: Any, confidence: float = 0.95) -> Dict[str, float]:
    """Paired t-test of ``after`` against ``before`` with the CI and Cohen's d (paper.md E10).

    ``t = mean(D) / (sd_1(D) / sqrt(n))`` with ``D = after - before`` (scipy's
    ``ttest_rel(after, before)``; the sign is negative when values shrink), the
    ``confidence`` interval of ``mean(D)``, and Cohen's ``d = mean(D) / sd_0(D)`` with the
    population sd, as the paper. When every difference is 0 (an identity recall) the
    test is undefined; it is reported as ``t = 0, p = 1, d = 0`` (no change); when every
    difference is the same non-zero number, ``t`` and ``d`` are ``±inf`` and ``p = 0``.
    Values must lie within ±1e150 (their squares are taken).

    Parameters
    ----------
    before, after : array_like of the same shape (any, flattened), >= 2 values
    confidence : float in (0, 1), default 0.95

    Returns
    -------
    dict
        ``n, df, mean_before, mean_after, mean_diff, t, p, ci_low, ci_high, cohens_d``.
    """
    from scipy import stats

    b = check_magnitude(check_float_array(before, "before", min_size=2).astype(np.float64).ravel(), "before")
    a = check_magnitude(check_float_array(after, "after").astype(np.float64).ravel(), "after")
    if a.shape != b.shape:
        raise ValueError(f"before and after must have the same size, got {b.size} and {a.size}")
    confidence = check_real(confidence, "confidence", 0.0, 1.0, low_open=True, high_open=True)
    diff = a - b  # D = after - before
    n = diff.size
    mean, sd0 = float(diff.mean()), float(diff.std())
    out = {"n": int(n), "df": int(n - 1), "mean_before": float(b.mean()), "mean_after": float(a.mean()),
           "mean_diff": mean}
    if sd0 == 0.0:
        out.update(t=0.0 if mean == 0.0 else float(np.sign(mean) * np.inf), p=1.0 if mean == 0.0 else 0.0,
                   ci_low=mean, ci_high=mean, cohens_d=0.0 if mean == 0.0 else float(np.sign(mean) * np.inf))
        return out
    res = stats.ttest_rel(a, b)
    se = float(diff.std(ddof=1)) / np.sqrt(n)  # standard error of mean(D)
    half = float(stats.t.ppf(0.5 + float(confidence) / 2, n - 1)) * se  # CI: mean(D) +- t_{(1+c)/2, n-1} SE
    out.update(t=float(res[0]), p=float(res[1]), ci_low=mean - half, ci_high=mean + half,
               cohens_d=mean / sd0)  # d = mean(D) / sd_0(D)
    return out


def prototype_distance(images: Any, labels: Any, reference: Optional[Any] = None) -> np.ndarray:
    """Euclidean distance of every image to its class's mean image.

    Parameters
    ----------
    images : (N, ...) array_like
    labels : (N,) int array_like
    reference : (N', ...) array_like, optional
        Images whose class means are the prototypes (same labels as ``images`` when
        N' = N; default ``images`` itself). Pass the inputs to measure recalls against
        the inputs' prototypes.

    Returns
    -------
    (N,) float64 ndarray
        ``|| x_i - m_{y_i} ||_2``.
    """
    x, y = _check_labeled(images, labels)
    ref, _ = _check_labeled(images if reference is None else reference, labels, "reference")
    if ref.shape != x.shape:
        raise ValueError(f"reference must have the shape of images, got {ref.shape} and {x.shape}")
    classes = np.unique(y)
    m = class_means(ref, y, classes)
    row = np.searchsorted(classes, y)
    return np.linalg.norm(x - m[row], axis=1)  # || x_i - m_c ||
