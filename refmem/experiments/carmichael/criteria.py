"""The pass rules of the Carmichael effect (paper.md E14) and the measures they read.

Controls: ``no context`` stores each stimulus with its *own* latent as the conceptual
part, so nothing pulls the recall towards a context (the recalls under the "two
contexts" are the same recall); ``VAE only`` is the decoded retrieved latent without the
retrieved sensory elements, which cannot keep the white square.
"""
from __future__ import annotations

from typing import Any, Dict, Sequence

import numpy as np

from refmem.experiments.criteria import Criterion

__all__ = ["CRITERIA", "measures", "NO_CONTEXT", "VAE_ONLY"]

NO_CONTEXT = "no context"
VAE_ONLY = "VAE only"

CRITERIA = [
    Criterion("E14a", "the recalled shape follows the context (fewest stimuli over the two contexts)",
              "context_matches_min", ">=", 3, paper="cube under 'cube', sphere under 'sphere' (qualitative)",
              control=NO_CONTEXT, note="shape of the recall = SVC probe on the re-encoded mu; 4 stimuli per context"),
    Criterion("E14b", "recalls under the two contexts differ (pixel MAE)", "context_mae", ">", 0.02,
              paper="different (qualitative)", control=NO_CONTEXT),
    Criterion("E14c", "the unpredictable white square survives recall (largest MAE inside the square)",
              "square_error_max", "<", 0.1, paper="retained (qualitative)", control=VAE_ONLY),
]


def measures(recalls: Dict[int, np.ndarray], predicted: Dict[int, np.ndarray], stimuli: np.ndarray,
             squares: np.ndarray, contexts: Sequence[int]) -> Dict[str, Any]:
    """The criteria's scalars.

    Parameters
    ----------
    recalls : dict context -> (4, H, W, C) ndarray
        The recall of every stimulus under each context.
    predicted : dict context -> (4,) int ndarray
        The probe's shape for each recall.
    stimuli : (4, H, W, C) ndarray
    squares : (4, H, W) bool ndarray
        The white square's pixels in each stimulus.
    contexts : the two context shapes

    Returns
    -------
    dict
        ``context_matches_min``, ``context_matches`` (per context), ``context_mae``,
        ``square_error_max``, ``square_error`` (per context, per stimulus).
    """
    a, b = (recalls[c] for c in contexts)
    matches = {int(c): int(np.sum(np.asarray(predicted[c]) == c)) for c in contexts}
    sq_err = {}
    for c in contexts:
        err = np.abs(recalls[c].astype(np.float64) - stimuli).mean(axis=3)  # (4, H, W)
        sq_err[int(c)] = [float(err[i][squares[i]].mean()) for i in range(len(stimuli))]
    return {"context_matches_min": min(matches.values()), "context_matches": matches,
            "context_mae": float(np.mean(np.abs(a.astype(np.float64) - b))),
            "square_error_max": max(max(v) for v in sq_err.values()), "square_error": sq_err}
