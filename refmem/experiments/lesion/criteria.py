"""E9's pass rules and the measures they read (a reconstruction; paper.md E9).

Memory age is ``T - 1 - cohort`` days (0 = stored on the last day). The gradient tests
are one-sided: Spearman's rho between age and lesioned error over all memories, and a
Wilcoxon signed-rank test of the oldest cohort against the newest, paired by slot (the
two scenes of a pair share shape and scale; hues and orientation are drawn anew).
"""
from __future__ import annotations

from typing import Dict

import numpy as np
import scipy.stats

from refmem.analysis.stats import spearman
from refmem.experiments.criteria import Criterion

__all__ = ["CRITERIA", "measures", "criteria_for", "NO_REPLAY", "NO_HIPPOCAMPUS"]

#: control: a VAE that never trains on replay (k = 0: the initial weights)
NO_REPLAY = "no replay (k = 0)"
#: control: recall without a hippocampus reported as intact recall
NO_HIPPOCAMPUS = "no hippocampus"


def criteria_for(alpha: float = 0.01, max_intact_ratio: float = 0.05, min_decoding: float = 0.6):
    """The four E9 criteria with the config's thresholds."""
    return [
        Criterion("E9a", "lesioned recall error falls with memory age", "gradient_p", "<", alpha,
                  paper="remote memories spared (temporally graded amnesia)", control=NO_REPLAY,
                  note="one-sided p of Spearman(age, lesioned error) over all memories (rho < 0)"),
        Criterion("E9b", "oldest cohort recalled better than newest after the lesion", "paired_p", "<", alpha,
                  paper="reconstruction: not in the final code", control=NO_REPLAY,
                  note="one-sided Wilcoxon signed-rank, oldest vs newest cohort, pairs share shape and scale"),
        Criterion("E9c", "intact recall is exact at every age", "intact_max_ratio", "<=", max_intact_ratio,
                  paper="MHN recall ~ exact for all ages", control=NO_HIPPOCAMPUS,
                  note="largest cohort mean of intact error / mean lesioned error"),
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


def measures(intact: np.ndarray, lesioned: np.ndarray, cohort: np.ndarray, slot: np.ndarray,
             decoding_accuracy: float) -> Dict[str, float]:
    """Scalars of E9 from per-memory errors.

    Parameters
    ----------
    intact, lesioned : (N,) float arrays
        Per-memory recall error (paper.md 1.5 metric) of intact and lesioned recall.
    cohort : (N,) int array
        Arrival day 0 .. T-1.
    slot : (N,) int array
        Pair index within a cohort (equal slots share shape and scale across cohorts).
    decoding_accuracy : float
        Shape decoding from mu after the lesion.
    """
    intact, lesioned = np.asarray(intact, float), np.asarray(lesioned, float)
    cohort, slot = np.asarray(cohort), np.asarray(slot)
    if not (intact.shape == lesioned.shape == cohort.shape == slot.shape) or intact.ndim != 1:
        raise ValueError("intact, lesioned, cohort and slot must be 1-D arrays of one length")
    n_days = int(cohort.max()) + 1
    age = n_days - 1 - cohort
    rho, p = spearman(age.astype(float), lesioned)
    old, new = np.flatnonzero(cohort == 0), np.flatnonzero(cohort == n_days - 1)
    old, new = old[np.argsort(slot[old])], new[np.argsort(slot[new])]
    if len(old) != len(new) or np.any(slot[old] != slot[new]):
        raise ValueError("the oldest and newest cohorts must hold the same slots")
    diff = lesioned[old] - lesioned[new]
    paired_p = float(scipy.stats.wilcoxon(diff, alternative="less").pvalue) if np.any(diff != 0) else 1.0
    means_les = np.array([lesioned[cohort == c].mean() for c in range(n_days)])
    means_int = np.array([intact[cohort == c].mean() for c in range(n_days)])
    return {"gradient_rho": float(rho), "gradient_p": _one_sided(rho, p), "paired_p": paired_p,
            "oldest_minus_newest": float(diff.mean()),
            "intact_max_ratio": float(means_int.max() / lesioned.mean()) if lesioned.mean() > 0 else float("nan"),
            "decoding_accuracy": float(decoding_accuracy)}
