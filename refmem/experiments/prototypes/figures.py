"""Figures of the prototype experiment: variance boxplots and inputs next to their recalls.

* ``variance_boxplot.png`` (matplotlib): per class, the per-pixel variances before and
  after recall; boxes at the quartiles, whiskers at the 10th and 90th percentiles, no
  fliers (as the paper's figure).
* ``recalls.png`` (no matplotlib): one row per class, ``n`` inputs then their recalls.
"""
from __future__ import annotations

import os
from typing import Any, Dict, List, Tuple

import numpy as np

from refmem.imageio import save_grid
from refmem.plotting import get_pyplot, save_figure

__all__ = ["write_figures", "variance_boxplot", "recall_grid"]


def variance_boxplot(path: str, before: np.ndarray, after: np.ndarray, classes: List[int]) -> bool:
    """Boxplots of (K, P) variances before/after per class; False if matplotlib is missing."""
    plt = get_pyplot()
    if plt is None:
        return False
    fig, ax = plt.subplots(figsize=(9, 3.6))
    k = len(classes)
    pos_b, pos_a = np.arange(k) * 3.0, np.arange(k) * 3.0 + 1.0
    common = dict(whis=(10, 90), showfliers=False, widths=0.8, patch_artist=True, medianprops={"color": "k"})
    bb = ax.boxplot(list(before), positions=pos_b, **common)
    ba = ax.boxplot(list(after), positions=pos_a, **common)
    for patch in bb["boxes"]:
        patch.set_facecolor("#9ecae1")
    for patch in ba["boxes"]:
        patch.set_facecolor("#fdae6b")
    ax.set_xticks(pos_b + 0.5)
    ax.set_xticklabels([str(c) for c in classes])
    ax.set_xlabel("digit class")
    ax.set_ylabel("per-pixel variance")
    ax.legend([bb["boxes"][0], ba["boxes"][0]], ["before recall (inputs)", "after recall"], loc="upper left",
              bbox_to_anchor=(1.0, 1.0))
    ax.set_title("Variance within each class before and after recall (whiskers: 10th-90th percentile)")
    save_figure(fig, path)
    return True


def recall_grid(path: str, x: np.ndarray, recalls: np.ndarray, labels: np.ndarray, idx: np.ndarray, n: int) -> None:
    """One row per class: ``n`` inputs of that class from ``idx``, then their recalls."""
    rows = []
    for c in np.unique(labels[idx]):
        pick = idx[labels[idx] == c][:n]
        pick = np.concatenate([pick, np.repeat(pick[-1:], n - len(pick))])  # pad short classes
        rows.append(np.concatenate([x[pick], recalls[pick]]))
    save_grid(path, np.concatenate(rows)[..., 0], ncols=2 * n, scale=2)


def write_figures(out_dir: str, m: Dict[str, Any], x: np.ndarray, recalls: np.ndarray, labels: np.ndarray,
                  idx: np.ndarray, n: int) -> Tuple[List[str], List[str]]:
    """Write both figures; returns ``(written, skipped)`` file names."""
    written, skipped = [], []
    if variance_boxplot(os.path.join(out_dir, "variance_boxplot.png"), m["variance_before"], m["variance_after"],
                        m["classes"]):
        written.append("variance_boxplot.png")
    else:
        skipped.append("variance_boxplot.png")
    recall_grid(os.path.join(out_dir, "recalls.png"), x, recalls, labels, idx, n)
    written.append("recalls.png")
    return written, skipped
