"""Figures of the boundary-extension experiment.

* ``size_change_boxplot.png`` (matplotlib): the size change per zoom level, boxes at the
  quartiles, whiskers at the 10th and 90th percentiles, no fliers (as the paper), with
  the paper's medians overlaid.
* ``examples.png`` (no matplotlib): one row per zoom level: the original scene, the
  zoomed input, the noisy cue and the recall.
"""
from __future__ import annotations

import os
from typing import List, Sequence, Tuple

import numpy as np

from refmem.experiments.boundary.config import PAPER_MEDIANS
from refmem.imageio import save_grid
from refmem.plotting import get_pyplot, save_figure

__all__ = ["write_figures", "change_boxplot"]


def change_boxplot(path: str, zooms: Sequence[int], change: np.ndarray) -> bool:
    """Boxplot of ``change`` (Z, N) per zoom level; False if matplotlib is missing."""
    plt = get_pyplot()
    if plt is None:
        return False
    fig, ax = plt.subplots(figsize=(7, 4))
    pos = np.arange(len(zooms))
    ax.boxplot(list(change), positions=pos, whis=(10, 90), showfliers=False, widths=0.6, patch_artist=True,
               boxprops={"facecolor": "#c6dbef"}, medianprops={"color": "#08519c", "linewidth": 2})
    paper = [(i, PAPER_MEDIANS[z]) for i, z in enumerate(zooms) if z in PAPER_MEDIANS]
    if paper:
        ax.plot([p[0] for p in paper], [p[1] for p in paper], "o--", color="#d62728", label="paper's median")
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xticks(pos)
    ax.set_xticklabels([f"{z}%" for z in zooms])
    ax.set_xlabel("zoom of the input (< 100%: zoomed out, > 100%: zoomed in)")
    ax.set_ylabel("object height change (recall - input) / input")
    ax.set_title("Boundary extension and contraction (this run: boxes, median in blue)")
    ax.legend(loc="upper right")
    save_figure(fig, path)
    return True


def write_figures(out_dir: str, zooms: Sequence[int], change: np.ndarray, original: np.ndarray,
                  examples: List[Tuple[np.ndarray, np.ndarray, np.ndarray]]) -> Tuple[List[str], List[str]]:
    """Write both figures; returns ``(written, skipped)`` file names."""
    written, skipped = [], []
    if change_boxplot(os.path.join(out_dir, "size_change_boxplot.png"), zooms, change):
        written.append("size_change_boxplot.png")
    else:
        skipped.append("size_change_boxplot.png")
    tiles = [t for zoomed, cue, recall in examples for t in (original, zoomed, cue, recall)]
    save_grid(os.path.join(out_dir, "examples.png"), np.stack(tiles), ncols=4, scale=2)
    written.append("examples.png")
    return written, skipped
