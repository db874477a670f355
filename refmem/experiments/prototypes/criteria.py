"""The pass rules of prototypical distortion (paper.md E10) and the measures they read.

:func:`measures` turns the inputs and the recalls of one digit set into the scalars the
criteria compare. The negative control is the identity ("a perfect autoencoder"): the
recall is the input itself, so no variance changes and every variance rule must fail.
A decoder that forgets everything (an untrained VAE, a near-constant output) also
shrinks the variance; the rule that recalls keep their digit class fails for it.
"""
from __future__ import annotations

from typing import Any, Dict

import numpy as np

from refmem.analysis.distortion import class_means, class_pixel_variance, paired_test, prototype_distance
from refmem.experiments.criteria import Criterion

__all__ = ["CRITERIA", "measures", "CONTROL", "UNTRAINED"]

#: name of the negative control of the variance rules
CONTROL = "identity"
#: name of the negative control of the rule that recalls keep their class
UNTRAINED = "untrained VAE"

CRITERIA = [
    Criterion("E10a", "per-pixel variance shrinks after recall in every class", "fraction_classes_shrunk",
              ">=", 1.0, paper="10 of 10 classes (mean .023-.061 -> .018-.040)", control=CONTROL),
    Criterion("E10b", "paired t-test over (class, pixel) pairs", "p_value", "<", 1e-10,
              paper="p < 1e-10 (acceptance; published value not available)", control=CONTROL),
    Criterion("E10c", "effect size: Cohen's d of (after - before)", "cohens_d", "<", -0.3,
              paper="d < -0.3 (acceptance)", control=CONTROL),
    Criterion("E10d", "recalls are closer to their class-mean image than the inputs", "prototype_distance_ratio",
              "<", 1.0, paper="closer (optional acceptance)", control=CONTROL,
              note="ratio = mean distance of the recalls / mean distance of the inputs to the inputs' "
                   "class-mean image"),
    Criterion("E10e", "recall keeps the digit: nearest class-mean image is the digit's own class",
              "recall_class_accuracy", ">=", 0.5, paper="(implicit: recalls are recognisable digits)",
              control=UNTRAINED,
              note="guards E10a-c against a decoder that shrinks variance by forgetting (an untrained VAE "
                   "passes E10a-c); nearest class mean of the inputs, Euclidean (chance 0.1; the inputs "
                   "themselves score about 0.8 with this classifier, see input_class_accuracy)"),
]


def measures(inputs: np.ndarray, recalls: np.ndarray, labels: np.ndarray) -> Dict[str, Any]:
    """Variance statistics of one digit set (paper.md E10).

    Parameters
    ----------
    inputs, recalls : (N, 28, 28, 1) ndarray in [0, 1]
    labels : (N,) int ndarray

    Returns
    -------
    dict
        The criteria's scalars (``fraction_classes_shrunk``, ``p_value``, ``cohens_d``,
        ``prototype_distance_ratio``) and the details: ``test`` (:func:`paired_test`),
        ``classes``, per-class ``mean_before``/``mean_after`` and quartiles
        ``q3_before``/``q3_after``, ``n_per_class``.
    """
    classes = np.unique(labels)
    before = class_pixel_variance(inputs, labels, classes)  # (K, P)
    after = class_pixel_variance(recalls, labels, classes)
    test = paired_test(before, after)
    m_b, m_a = before.mean(axis=1), after.mean(axis=1)
    d_in = prototype_distance(inputs, labels)
    d_out = prototype_distance(recalls, labels, reference=inputs)
    means = class_means(inputs, labels, classes)
    d2 = ((recalls.reshape(len(recalls), -1)[:, None, :].astype(np.float64) - means[None]) ** 2).sum(axis=2)
    accuracy = float(np.mean(classes[np.argmin(d2, axis=1)] == labels))  # nearest class mean
    d2 = ((inputs.reshape(len(inputs), -1)[:, None, :].astype(np.float64) - means[None]) ** 2).sum(axis=2)
    input_accuracy = float(np.mean(classes[np.argmin(d2, axis=1)] == labels))
    return {"recall_class_accuracy": accuracy, "input_class_accuracy": input_accuracy,
            "fraction_classes_shrunk": float(np.mean(m_a < m_b)), "p_value": test["p"],
            "cohens_d": test["cohens_d"], "prototype_distance_ratio": float(d_out.mean() / d_in.mean()),
            "classes_shrunk": int(np.sum(m_a < m_b)), "test": test, "classes": classes.tolist(),
            "n_per_class": [int(np.sum(labels == c)) for c in classes],
            "mean_before": m_b.tolist(), "mean_after": m_a.tolist(),
            "q3_before": np.percentile(before, 75, axis=1).tolist(),
            "q3_after": np.percentile(after, 75, axis=1).tolist(),
            "prototype_distance_inputs": float(d_in.mean()), "prototype_distance_recalls": float(d_out.mean()),
            "variance_before": before, "variance_after": after}
