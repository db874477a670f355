"""E17's pass rules and the measures they read.

Three novel sets: ``novel_shape`` (scenes of the shape the Shapes3D VAE never saw),
``novel_digits`` (digit classes the digits VAE never saw) and ``scenes_ood`` (rendered
scenes in greyscale 28 x 28, for the digits VAE). Each is compared with familiar
held-out items (unseen items of the trained classes). The control replaces the novel
set by a second half of the familiar items (a random split of the trained classes).
"""
from __future__ import annotations

from typing import Dict, List

import numpy as np
import scipy.stats

from refmem.analysis.stats import roc_auc
from refmem.experiments.criteria import Criterion

__all__ = ["SETS", "criteria_for", "CRITERIA", "measures", "set_measures", "RANDOM_SPLIT"]

#: novel set -> what it is
SETS = {"novel_shape": "Shapes3D, held-out shape", "novel_digits": "digits, held-out classes",
        "scenes_ood": "digits VAE, rendered scenes (out of domain)"}
#: control: "novel" items drawn from the trained classes
RANDOM_SPLIT = "random split of familiar"


def criteria_for(min_fraction_gap: float = 0.1, min_auc: float = 0.8, alpha: float = 0.01) -> List[Criterion]:
    """Three criteria per novel set."""
    out = []
    for key, what in SETS.items():
        out += [
            Criterion(f"E17a.{key}", f"more novel items need hippocampal encoding ({what})", f"frac_gap.{key}", ">",
                      min_fraction_gap, paper="MNIST < KMNIST, Fashion-MNIST (preprint)", control=RANDOM_SPLIT,
                      note="fraction of items with error above the threshold, novel minus familiar"),
            Criterion(f"E17b.{key}", f"reconstruction error tells novel from familiar ({what})", f"auc.{key}", ">=",
                      min_auc, paper="histograms separate (preprint)", control=RANDOM_SPLIT,
                      note="ROC AUC of the per-item error, novel vs familiar"),
            Criterion(f"E17c.{key}", f"novel items leave larger sensory traces ({what})", f"trace_p.{key}", "<",
                      alpha, paper="extended model: store what the VAE predicts poorly", control=RANDOM_SPLIT,
                      note="one-sided Mann-Whitney p, trace size novel > familiar"),
        ]
    return out


#: the criteria with the default thresholds
CRITERIA = criteria_for()


def set_measures(fam_err: np.ndarray, nov_err: np.ndarray, fam_trace: np.ndarray, nov_trace: np.ndarray,
                 threshold: float) -> Dict[str, float]:
    """Familiar vs one novel set: fractions above ``threshold``, AUC, trace sizes and their test."""
    fam_err, nov_err = np.asarray(fam_err, float), np.asarray(nov_err, float)
    fam_trace, nov_trace = np.asarray(fam_trace, float), np.asarray(nov_trace, float)
    if fam_err.shape != fam_trace.shape or nov_err.shape != nov_trace.shape or fam_err.ndim != 1:
        raise ValueError("errors and trace sizes must be 1-D arrays of matching lengths")
    ff, fn = float(np.mean(fam_err > threshold)), float(np.mean(nov_err > threshold))
    if np.all(np.concatenate([fam_trace, nov_trace]) == fam_trace[0]):
        p = 1.0
    else:
        p = float(scipy.stats.mannwhitneyu(nov_trace, fam_trace, alternative="greater").pvalue)
    return {"frac_familiar": ff, "frac_novel": fn, "frac_gap": fn - ff, "auc": roc_auc(fam_err, nov_err),
            "trace_familiar": float(fam_trace.mean()), "trace_novel": float(nov_trace.mean()), "trace_p": p}


def measures(per_set: Dict[str, Dict[str, float]]) -> Dict[str, float]:
    """Flatten ``{set: set_measures(...)}`` into ``{"name.set": value}`` for the criteria."""
    return {f"{k}.{s}": v for s, m in per_set.items() for k, v in m.items()}
