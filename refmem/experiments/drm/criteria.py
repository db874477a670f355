"""Pass rules of the DRM experiment (E15), each with a negative control that must fail it.

Controls (each is measured exactly as the model is):

- ``decoupled corpus``: the VAE is trained on a corpus in which no lure ever co-occurs
  with its own associates (lure frequencies kept); semantic knowledge of the themes
  without the lure-associate link must give no false recall;
- ``hippocampus only``: the bags of studied words are stored and retrieved directly
  (no VAE): an exact episodic memory recalls no lure;
- ``untrained VAE``: the same architecture with its initial weights;
- ``constant decoder``: every list decoded from z = 0 (the trained decoder with no
  trace).
"""
from __future__ import annotations

import math
from typing import Dict, Mapping, Optional

import numpy as np

from refmem.analysis import spearman
from refmem.datasets.drm import HUMAN_FALSE_RECALL
from refmem.experiments.criteria import Criterion

from refmem.experiments.drm.config import PAPER_CURVE

__all__ = ["CRITERIA", "measures", "rmse", "CONTROL_NAMES"]

CONTROL_NAMES = ("decoupled corpus", "hippocampus only", "untrained VAE", "constant decoder")

CRITERIA = [
    Criterion("E15.rise", "false recall of the lure rises with the number of studied associates",
              "spearman_rho", ">", 0.9, paper="ρ = 0.998", control="decoupled corpus",
              note="Spearman ρ between k and the false-recall rate over the run's list lengths; "
                   "a constant curve (no false recall at all) has no rank order and counts as ρ = 0."),
    Criterion("E15.gain", "long lists give substantial false recall",
              "rate_gain", ">=", 0.15, paper="0.3125 - 0.000 = 0.31", control="hippocampus only",
              note="rate(14) - rate(3)."),
    Criterion("E15.short", "short lists give little false recall",
              "rate_k3", "<=", 0.05, paper="0.000", control="untrained VAE"),
    Criterion("E15.studied", "studied words are recalled (full lists)",
              "studied_recall_k15", ">", 0.5, paper="most studied words recalled",
              control="constant decoder",
              note="mean fraction of the studied words recalled at k = 15 (all trials)."),
]


def _at(curve: Mapping, key: str, k: int) -> float:
    ks = list(curve["ks"])
    return float(curve[key][ks.index(k)]) if k in ks else float("nan")


def rmse(curve: Mapping, reference: Mapping[int, float]) -> Optional[float]:
    """Root-mean-square difference of the curve's rates and ``reference`` at their
    shared list lengths (None if none is shared)."""
    shared = [k for k in reference if k in curve["ks"]]
    if not shared:
        return None
    d = [_at(curve, "rate", k) - reference[k] for k in shared]
    return float(math.sqrt(np.mean(np.square(d))))


def measures(curve: Mapping) -> Dict[str, float]:
    """The criteria's measures (plus RMSEs and the peak rate) from a list-length curve.

    Parameters
    ----------
    curve : dict
        Output of :func:`refmem.experiments.drm.measure.list_length_curve`.
    """
    ks, rate = np.asarray(curve["ks"], float), np.asarray(curve["rate"], float)
    if len(ks) >= 2:
        rho, _ = spearman(ks, rate)
        rho = 0.0 if not np.isfinite(rho) else rho  # constant curve: no rise
    else:
        rho = float("nan")
    paper_ks = {k: v for k, v in PAPER_CURVE.items() if k in HUMAN_FALSE_RECALL}
    return {"spearman_rho": float(rho),
            "rate_gain": _at(curve, "rate", 14) - _at(curve, "rate", 3),
            "rate_k3": _at(curve, "rate", 3),
            "rate_k14": _at(curve, "rate", 14),
            "rate_k15": _at(curve, "rate", 15),
            "max_rate": float(rate.max()) if rate.size else float("nan"),
            "studied_recall_k15": _at(curve, "studied_recall", 15),
            "rmse_human": rmse(curve, HUMAN_FALSE_RECALL),
            "rmse_human_k3_12": rmse(curve, {k: v for k, v in HUMAN_FALSE_RECALL.items() if k <= 12}),
            "rmse_paper": rmse(curve, PAPER_CURVE),
            "paper_rmse_human_k3_12": float(math.sqrt(np.mean(
                [(paper_ks[k] - HUMAN_FALSE_RECALL[k]) ** 2 for k in paper_ks])))}
