"""E9 figures: error vs memory age, partial lesions, per-cohort examples.

The examples grid needs no matplotlib; the two line plots are skipped without it.
"""
from __future__ import annotations

import os
from typing import Dict, List, Tuple

import numpy as np

from refmem.imageio import save_grid
from refmem.plotting import get_pyplot, save_figure

__all__ = ["FIGURES", "write_figures"]

#: figure file -> what it shows
FIGURES = {
    "age_gradient.png": "recall error vs memory age: lesioned (VAE only; both orders and each), intact "
                        "(Hopfield), and the never-replayed VAE (k = 0)",
    "partial_lesion.png": "recall error vs fraction of memories removed, one line per memory age",
    "examples.png": "columns oldest -> newest (forward order); rows: stored scene, cue, intact recall, "
                    "lesioned recall",
}


def _age_gradient(path: str, res: Dict, plt) -> None:
    ages = np.array(res["ages"])
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    panels = ((("lesioned", "lesioned (VAE only), both orders", "o-"), ("forward", "forward order", ":"),
               ("reverse", "reverse order", ":"), ("intact", "intact (Hopfield)", "^-")),
              (("control", "lesioned, k = 0 (never trained on replay)", "s--"),))
    for ax, panel in zip(axes, panels):
        for key, label, style in panel:
            pc = res["by_age"][key]
            ax.errorbar(ages, pc["mean"], yerr=pc["sem"], fmt=style, capsize=3, label=label)
        ax.set_xlabel("memory age at the lesion (days, T - t)")
        ax.set_xticks(ages)
        ax.legend(fontsize=8)
    axes[0].set_ylim(bottom=0)
    axes[0].set_ylabel("recall error (sum over pixels of |x - x_hat|)")
    axes[0].set_title("Recall after a hippocampal lesion, by memory age")
    axes[1].set_title("Control: no consolidation")
    save_figure(fig, path)


def _partial(path: str, res: Dict, plt) -> None:
    p = res["partial_lesion"]
    by = np.array(p["by_age"])               # (fractions, ages)
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for c, age in enumerate(res["ages"]):
        ax.plot(np.array(p["fractions"]) * 100, by[:, c], "o-", label=f"age {age}")
    ax.set_xlabel("memories removed from the hippocampus (%)")
    ax.set_ylabel("recall error")
    ax.set_title("Partial hippocampal lesions (forward order)")
    ax.legend(fontsize=8)
    save_figure(fig, path)


def write_figures(out_dir: str, res: Dict, examples: Dict[str, np.ndarray]) -> Tuple[List[str], List[str]]:
    """Write the figures; return ``(written, skipped)`` file names."""
    rows = [examples[k] for k in ("original", "cue", "intact", "lesioned")]
    save_grid(os.path.join(out_dir, "examples.png"), np.concatenate(rows), ncols=len(rows[0]))
    written, skipped = ["examples.png"], []
    plt = get_pyplot()
    for name, fn in (("age_gradient.png", _age_gradient), ("partial_lesion.png", _partial)):
        if plt is None:
            skipped.append(name)
        else:
            fn(os.path.join(out_dir, name), res, plt)
            written.append(name)
    return written, skipped
