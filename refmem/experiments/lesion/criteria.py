"""E9's pass rules and the measures they read (a reconstruction; paper.md E9).

The run is counterbalanced: the same ``T`` groups of scenes arrive in two orders,
group ``g`` on day ``g`` (forward) and on day ``T - 1 - g`` (reverse), each with its own
consolidation from the same initial VAE. A scene's age at the lesion is ``T - 1 - g``
days in the forward order and ``g`` in the reverse one, so every scene is its own
control and differences in difficulty between groups cancel. The gradient tests are
one-sided: Spearman's rho between a scene's age difference and its error difference
(forward minus reverse), and a Wilcoxon signed-rank test of each scene of the first and
last groups recalled when it is oldest against the same scene when it is newest.
"""
from __future__ import annotations

from typing import Dict

import numpy as np
import scipy.stats

from refmem.analysis.stats import spearman
from refmem.experiments.criteria import Criterion

__all__ = ["CRITERIA", "measures", "by_age", "criteria_for", "NO_REPLAY", "NO_HIPPOCAMPUS"]

#: control: a VAE that never trains on replay (k = 0: the initial weights)
NO_REPLAY = "no replay (k = 0)"
#: control: recall without a hippocampus reported as intact recall
NO_HIPPOCAMPUS = "no hippocampus"


def criteria_for(alpha: float = 0.01, max_intact_ratio: float = 0.05, min_decoding: float = 0.6):
    """The four E9 criteria with the config's thresholds."""
    return [
        Criterion("E9a", "lesioned recall error falls with memory age", "gradient_p", "<", alpha,
                  paper="remote memories spared (temporally graded amnesia)", control=NO_REPLAY,
                  note="one-sided p of Spearman(age difference, error difference) over scenes, "
                       "forward minus reverse order"),
        Criterion("E9b", "oldest cohort recalled better than newest after the lesion", "paired_p", "<", alpha,
                  paper="reconstruction: not in the final code", control=NO_REPLAY,
                  note="one-sided Wilcoxon signed-rank: each scene of the first and last groups when oldest "
                       "vs when newest"),
        Criterion("E9c", "intact recall is exact at every age", "intact_max_ratio", "<=", max_intact_ratio,
                  paper="MHN recall ~ exact for all ages", control=NO_HIPPOCAMPUS,
                  note="largest group mean of intact error / mean lesioned error"),
        Criterion("E9d", "semantic memory survives the lesion", "decoding_accuracy", ">=", min_decoding,
                  paper=">= 0.6 (paper.md E9)", control=NO_REPLAY,
                  note="4-way shape decoding from mu of held-out scenes (no hippocampus needed)"),
    ]


#: the criteria with the default thresholds
CRITERIA = criteria_for()


def _one_sided(rho: float, p: float) -> float:
    if not np.isfinite(rho):
        return float("nan")
    return p / 2 if rho < 0 else 1 - p / 2


def measures(intact: np.ndarray, forward: np.ndarray, reverse: np.ndarray, group: np.ndarray,
             decoding_accuracy: float) -> Dict[str, float]:
    """Scalars of E9 from per-scene errors of the two arrival orders.

    Parameters
    ----------
    intact : (N,) float array
        Per-scene intact recall error (paper.md 1.5 metric; the same network in both orders).
    forward, reverse : (N,) float arrays
        Per-scene lesioned recall error after the forward and the reverse order.
    group : (N,) int array
        Group 0 .. T-1 of each scene (arrival day in the forward order).
    decoding_accuracy : float
        Shape decoding from mu after the lesion.
    """
    intact, forward, reverse = (np.asarray(a, float) for a in (intact, forward, reverse))
    group = np.asarray(group)
    if not (intact.shape == forward.shape == reverse.shape == group.shape) or intact.ndim != 1:
        raise ValueError("intact, forward, reverse and group must be 1-D arrays of one length")
    n_days = int(group.max()) + 1
    if n_days < 2 or not np.array_equal(np.unique(group), np.arange(n_days)):
        raise ValueError("group must hold every day 0 .. T-1 (T >= 2)")
    d_age = (n_days - 1 - group) - group                      # forward age minus reverse age
    d_err = forward - reverse
    if np.all(d_err == 0):
        rho, p_one = float("nan"), 1.0                        # no difference at all: no evidence
    else:
        rho, p = spearman(d_age.astype(float), d_err)
        p_one = _one_sided(rho, p)
    ends = (group == 0) | (group == n_days - 1)
    old = np.where(group == 0, forward, reverse)[ends]       # each end scene when it is oldest ...
    new = np.where(group == 0, reverse, forward)[ends]       # ... and when it is newest
    diff = old - new
    paired_p = float(scipy.stats.wilcoxon(diff, alternative="less").pvalue) if np.any(diff != 0) else 1.0
    lesioned_by_age = by_age(forward, reverse, group)
    intact_by_age = [float(intact[group == g].mean()) for g in range(n_days)]
    mean_les = float(np.mean(lesioned_by_age))
    return {"gradient_rho": float(rho), "gradient_p": float(p_one), "paired_p": paired_p,
            "oldest_minus_newest": float(diff.mean()),
            "intact_max_ratio": float(max(intact_by_age) / mean_les) if mean_les > 0 else float("nan"),
            "decoding_accuracy": float(decoding_accuracy)}


def by_age(forward: np.ndarray, reverse: np.ndarray, group: np.ndarray) -> list:
    """Mean lesioned error at each age 0 .. T-1, pooled over both orders (a counterbalanced curve).

    At age ``a`` the forward order contributes group ``T - 1 - a``, the reverse order group ``a``.
    """
    n_days = int(np.max(group)) + 1
    return [float(np.concatenate([forward[group == n_days - 1 - a], reverse[group == a]]).mean())
            for a in range(n_days)]
