"""Figures of a consolidation run, written as PNG into the run folder.

Image grids (replay samples, recalls, interpolations, arithmetic, imagination) use
:mod:`refmem.imageio` and need no matplotlib; line and scatter plots (training curves,
latent projection, few-shot curves) need matplotlib (:func:`refmem.plotting.get_pyplot`)
and are skipped without it. Every function returns the file name it wrote, or ``None``
when it skipped the figure.
"""
from __future__ import annotations

import os
from typing import Dict, List, Optional, Tuple

import numpy as np

from refmem.imageio import save_grid
from refmem.plotting import get_pyplot, save_figure

__all__ = ["FIGURES", "replay_samples", "recalls", "interpolations", "arithmetic", "imagination_grid",
           "training_curves", "latent_projection", "few_shot_curves", "write_figures"]

#: figure file -> what it shows
FIGURES = {
    "training_curves.png": "E3: training recon loss and decoding accuracy vs epoch (twin axes)",
    "replay_samples.png": "E1: noise cue / replayed pattern / nearest stored memory",
    "recalls.png": "E2: clean / 10% zeroed / recall",
    "latent_projection.png": "E4: 2-D PCA of mu coloured by shape",
    "interpolations.png": "E5: decoded latent interpolation (odd rows) vs pixel blend (even rows)",
    "arithmetic.png": "E6: A / B / C / decode(mu C + mu B - mu A) / expected D",
    "imagination.png": "E7: top prior samples per shape class (one row per class)",
    "few_shot.png": "E8: probe accuracy vs training examples per representation",
}


def replay_samples(path: str, cues: np.ndarray, replayed: np.ndarray, stored: np.ndarray) -> str:
    """Rows: noise cues, their replays, the nearest stored memories (all ``(n, H, W, C)`` in [0, 1])."""
    save_grid(path, np.concatenate([cues, replayed, stored]), ncols=len(cues))
    return os.path.basename(path)


def recalls(path: str, clean: np.ndarray, noisy: np.ndarray, recall: np.ndarray) -> str:
    """Rows: clean held-out scenes, the same with 10% of elements zeroed, their recall."""
    save_grid(path, np.concatenate([clean, noisy, recall]), ncols=len(clean))
    return os.path.basename(path)


def interpolations(path: str, decoded: np.ndarray, blends: np.ndarray, max_pairs: int = 5) -> str:
    """For each pair: a row of decoded latent interpolations, then a row of pixel blends."""
    rows = [r for p in range(min(max_pairs, len(decoded))) for r in (decoded[p], blends[p])]
    save_grid(path, np.concatenate(rows), ncols=decoded.shape[1])
    return os.path.basename(path)


def arithmetic(path: str, arrays: Dict[str, np.ndarray]) -> str:
    """One row per triple: A, B, C, decoded ``mu(C) + mu(B) - mu(A)``, expected answer D."""
    cols = [arrays[k] for k in ("A", "B", "C", "decoded", "D")]
    save_grid(path, np.stack(cols, axis=1).reshape((-1,) + cols[0].shape[1:]), ncols=5)
    return os.path.basename(path)


def imagination_grid(path: str, samples: np.ndarray) -> str:
    """One row per shape class: decoded top prior samples ``(K, top, H, W, C)``."""
    save_grid(path, samples.reshape((-1,) + samples.shape[2:]), ncols=samples.shape[1])
    return os.path.basename(path)


def training_curves(path: str, history: Dict, within: Optional[Dict], plt) -> str:
    """The paper's twin-axis plot: loss per epoch, accuracy at epoch starts (docs/paper-experiments.md, E3).

    ``within`` (the run's ``within_epoch`` results, or None) adds the measurements taken
    within the first epochs, at fractional epochs (epoch start + steps / steps per epoch).
    """
    loss = np.asarray(history["recon_loss"])
    acc = np.asarray(history["decoding_accuracy"])
    held = np.asarray(history["heldout_recon"])
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    ax.plot(np.arange(1, len(loss) + 1), loss, "o-", color="tab:blue", label="training recon loss (epoch mean)")
    ax.plot(np.arange(1, len(held) + 1), held, "s--", color="tab:cyan", ms=3,
            label="held-out recon error (epoch start)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("reconstruction error", color="tab:blue")
    ax2 = ax.twinx()
    ax2.plot(np.arange(1, len(acc) + 1), acc, "^-", color="tab:red", label="shape decoding accuracy (epoch start)")
    if within:
        x = 1 + np.asarray(within["epoch"]) + np.asarray(within["step"]) / within["steps_per_epoch"]
        ax.plot(x, within["heldout_recon"], ".", color="tab:cyan", ms=3)
        ax2.plot(x, within["decoding_accuracy"], ".", color="tab:red", ms=4,
                 label="shape decoding accuracy (within epoch)")
    ax2.axhline(0.25, color="tab:red", lw=0.8, ls=":")
    ax2.set_ylabel("decoding accuracy", color="tab:red")
    ax2.set_ylim(0, 1)
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], fontsize=7, loc="upper right")
    save_figure(fig, path)
    return os.path.basename(path)


def latent_projection(path: str, projection: np.ndarray, labels: np.ndarray, plt,
                      names: Optional[Tuple[str, ...]] = None) -> str:
    """Scatter of the 2-D projection of ``mu`` coloured by shape (docs/paper-experiments.md, E4)."""
    fig, ax = plt.subplots(figsize=(5, 4.4))
    cmap = plt.get_cmap("plasma")
    classes = np.unique(labels)
    for i, c in enumerate(classes):
        sel = labels == c
        name = names[int(c)] if names is not None and int(c) < len(names) else str(c)
        ax.scatter(projection[sel, 0], projection[sel, 1], s=8, color=cmap(i / max(1, len(classes) - 1) * 0.9),
                   label=name)
    ax.set_xlabel("PC 1 of mu")
    ax.set_ylabel("PC 2 of mu")
    ax.legend(fontsize=7, markerscale=2)
    save_figure(fig, path)
    return os.path.basename(path)


def few_shot_curves(path: str, e8: Dict, plt) -> str:
    """Probe accuracy vs training-set size, one line per representation (docs/paper-experiments.md, E8)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for name in e8["representations"]:
        ax.plot(e8["sizes"], e8["accuracy"][name], "o-", ms=3, label=name)
    ax.set_xscale("log")
    ax.set_xlabel("training examples")
    ax.set_ylabel("shape accuracy (held-out)")
    ax.axhline(0.25, color="grey", lw=0.8, ls=":")
    ax.legend(fontsize=7)
    save_figure(fig, path)
    return os.path.basename(path)


def write_figures(out_dir: str, history: Optional[Dict], analyses: Dict, shape_names=None) -> Tuple[List[str], List[str]]:
    """Write every figure whose data are present; return ``(written, skipped)`` file names.

    ``analyses`` maps ``"e2"``, ``"e4"``, ... to the analysis dicts (with their
    ``"arrays"``); a matplotlib figure is skipped (and listed) without matplotlib.
    ``history`` is None for a VAE that was given rather than trained (no training curves).
    """
    plt = get_pyplot()
    written, skipped = [], []
    p = lambda name: os.path.join(out_dir, name)  # noqa: E731

    def plot(name, fn, *args):
        if plt is None:
            skipped.append(name)
        else:
            written.append(fn(p(name), *args, plt))

    if history is not None:
        plot("training_curves.png", training_curves, history, analyses.get("within_epoch"))
    if "e2" in analyses:
        a = analyses["e2"]["arrays"]
        written.append(recalls(p("recalls.png"), a["clean"], a["noisy"], a["recall"]))
    if "e4" in analyses:
        a = analyses["e4"]["arrays"]
        if plt is None:
            skipped.append("latent_projection.png")
        else:
            written.append(latent_projection(p("latent_projection.png"), a["projection"], a["labels"], plt,
                                             shape_names))
    if "e5" in analyses:
        a = analyses["e5"]["arrays"]
        written.append(interpolations(p("interpolations.png"), a["decoded"], a["blends"]))
    if "e6" in analyses:
        written.append(arithmetic(p("arithmetic.png"), analyses["e6"]["arrays"]))
    if "e7" in analyses:
        written.append(imagination_grid(p("imagination.png"), analyses["e7"]["arrays"]["samples"]))
    if "e8" in analyses:
        plot("few_shot.png", few_shot_curves, analyses["e8"])
    return written, skipped
