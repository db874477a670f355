"""The pass rules of boundary extension and contraction (paper.md E11) and their measures.

:func:`measures` reads the per-image size changes (one row per zoom level) and returns
the medians at the extremes, the Spearman correlation of zoom with the median change,
and how far the change at 100 % exceeds the smaller extreme. The negative control is the
identity (a perfect memory returns the zoomed input; its height is measured again with
fresh k-means draws): nothing regresses towards a typical framing, so every rule must
fail. A second identity, which returns the noisy cue itself, is reported beside it: the
zeroed elements bias the colour segmentation (heights come out smaller, more so for
larger objects), which the model's smooth recall does not suffer.
"""
from __future__ import annotations

from typing import Any, Dict, Sequence

import numpy as np

from refmem.analysis.stats import spearman
from refmem.experiments.criteria import Criterion

__all__ = ["CRITERIA", "measures", "CONTROL", "NOISY", "summary"]

#: name of the negative control
CONTROL = "identity"
#: the identity that returns the noisy cue (reported, not a criterion's control)
NOISY = "identity (noisy cue)"

CRITERIA = [
    Criterion("E11a", "boundary contraction: a zoomed-out view is recalled with a larger object",
              "median_change_min_zoom", ">", 0.0, paper="+0.158 at 80%", control=CONTROL),
    Criterion("E11b", "boundary extension: a zoomed-in view is recalled with a smaller object",
              "median_change_max_zoom", "<", 0.0, paper="-0.153 at 120%", control=CONTROL),
    Criterion("E11c", "the change falls with zoom: Spearman(zoom, median change)", "spearman_rho", "<", -0.8,
              paper="-1.0 (medians +0.158 ... -0.153)", control=CONTROL),
    Criterion("E11d", "the unzoomed view changes least: |median at 100%| - min(|median| at the extremes)",
              "centre_excess", "<", 0.0, paper="0 - 0.153 = -0.153", control=CONTROL),
]


def summary(zooms: Sequence[int], change: np.ndarray) -> Dict[str, list]:
    """Per zoom level: median, quartiles, 10th/90th percentiles, mean, SEM of the change."""
    c = np.asarray(change, dtype=np.float64)
    pct = np.percentile(c, [10, 25, 50, 75, 90], axis=1)
    return {"zoom": [int(z) for z in zooms], "p10": pct[0].tolist(), "q1": pct[1].tolist(),
            "median": pct[2].tolist(), "q3": pct[3].tolist(), "p90": pct[4].tolist(),
            "mean": c.mean(axis=1).tolist(), "sem": (c.std(axis=1) / np.sqrt(c.shape[1])).tolist()}


def measures(zooms: Sequence[int], change: np.ndarray) -> Dict[str, Any]:
    """The criteria's scalars from ``change`` (Z, N): size change of N images at Z zoom levels.

    Returns
    -------
    dict
        ``median_change_min_zoom``, ``median_change_max_zoom``, ``spearman_rho``
        (None when the medians are constant), ``spearman_p``, ``centre_excess``, and
        the :func:`summary` table.
    """
    z = np.asarray(zooms)
    s = summary(zooms, change)
    med = np.asarray(s["median"])
    lo, hi, mid = int(np.argmin(z)), int(np.argmax(z)), int(np.flatnonzero(z == 100)[0])
    rho, p = spearman(z.astype(np.float64), med)
    return {"median_change_min_zoom": float(med[lo]), "median_change_max_zoom": float(med[hi]),
            "spearman_rho": None if np.isnan(rho) else float(rho), "spearman_p": None if np.isnan(p) else float(p),
            "centre_excess": float(abs(med[mid]) - min(abs(med[lo]), abs(med[hi]))), "summary": s}
