"""E16 figures: recovery rate by stage and corruption, and recall examples."""
from __future__ import annotations

import os
from typing import Dict, List, Tuple

import numpy as np

from refmem.imageio import save_grid
from refmem.plotting import get_pyplot, save_figure

__all__ = ["FIGURES", "write_figures"]

#: figure file -> what it shows
FIGURES = {
    "recovery.png": "exact recovery (cosine >= 0.99) vs consolidation stage, one panel per corruption level: "
                    "VAE alone, raw-cue Hopfield query, gist-then-Hopfield",
    "examples.png": "rows: stored scene, cue (first corruption level), VAE gist (last stage), "
                    "gist-then-Hopfield, raw-cue Hopfield query",
}


def _recovery(path: str, res: Dict, plt) -> None:
    stages = ["untrained"] + res["stages"]
    fr = res["fractions"]
    fig, axes = plt.subplots(1, len(fr), figsize=(4 * len(fr), 3.6), sharey=True, squeeze=False)
    for ax, f in zip(axes[0], fr):
        xs = np.arange(len(stages))
        for key, label, style in (("vae", "VAE alone", "o-"), ("raw", "Hopfield, raw cue", "s--"),
                                  ("hybrid", "gist -> Hopfield", "^-")):
            ax.plot(xs, [res["table"][s][f][key] for s in stages], style, label=label)
        ax.set_xticks(xs)
        ax.set_xticklabels(stages, rotation=30, fontsize=8)
        ax.set_title(f"{float(f):.0%} of the cue zeroed")
        ax.set_ylim(-0.03, 1.03)
    axes[0][0].set_ylabel("exact recovery (cosine >= 0.99)")
    axes[0][-1].legend(fontsize=8)
    save_figure(fig, path)


def write_figures(out_dir: str, res: Dict, examples: Dict[str, np.ndarray]) -> Tuple[List[str], List[str]]:
    """Write the figures; return ``(written, skipped)`` file names."""
    written, skipped = [], []
    if examples:
        rows = [examples[k] for k in ("stored", "cue", "gist", "hybrid", "raw")]
        save_grid(os.path.join(out_dir, "examples.png"), np.concatenate(rows), ncols=len(rows[0]))
        written.append("examples.png")
    plt = get_pyplot()
    if plt is None:
        skipped.append("recovery.png")
    else:
        _recovery(os.path.join(out_dir, "recovery.png"), res, plt)
        written.append("recovery.png")
    return written, skipped
