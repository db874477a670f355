"""E17 figures: error histograms (familiar vs novel), trace sizes, examples with their traces."""
from __future__ import annotations

import os
from typing import Dict, List, Tuple

import numpy as np

from refmem.imageio import save_grid
from refmem.plotting import get_pyplot, save_figure

__all__ = ["FIGURES", "write_figures"]

#: figure file -> what it shows
FIGURES = {
    "errors.png": "histograms of per-item reconstruction error, familiar vs novel sets, with the threshold",
    "traces.png": "stored sensory trace size (pixels above the error threshold), familiar vs novel sets",
    "examples_shapes.png": "rows: familiar scenes, their recall, their trace; novel-shape scenes, recall, trace",
    "examples_digits.png": "rows: familiar digits, novel digits, rendered scenes; each followed by recall and trace",
}

_DOMAINS = (("shapes", ("familiar", "novel_shape")), ("digits", ("familiar", "novel_digits", "scenes_ood")))


def _hist(path, res, n, plt):
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, (dom, sets) in zip(axes, _DOMAINS):
        errs = {s: np.asarray(res["errors"][dom][s])[:n] for s in sets}
        bins = np.linspace(0, max(float(np.quantile(np.concatenate(list(errs.values())), 0.99)), 1e-9), 40)
        for s, e in errs.items():
            ax.hist(np.minimum(e, bins[-1]), bins=bins, alpha=0.5, label=s)
        ax.axvline(res["thresholds"][dom], color="k", ls="--", lw=1, label="threshold")
        ax.set_title(f"{dom} VAE")
        ax.set_xlabel("reconstruction error")
        ax.legend(fontsize=8)
    axes[0].set_ylabel("items")
    save_figure(fig, path)


def _traces(path, res, n, plt):
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, (dom, sets) in zip(axes, _DOMAINS):
        ax.boxplot([np.asarray(res["trace_sizes"][dom][s])[:n] for s in sets], showfliers=False)
        ax.set_xticks(range(1, len(sets) + 1))
        ax.set_xticklabels(sets)
        ax.set_title(f"{dom}: stored sensory trace")
        ax.set_ylabel("pixels above the trace threshold")
    save_figure(fig, path)


def _examples(path, data, scores, sets, k, thr):
    rows = []
    for s in sets:
        x = data[s][:k]
        _, _, x_hat = scores[s]
        err = np.abs(x - x_hat[:k]).mean(axis=-1, keepdims=True)
        mask = np.repeat((err > thr).astype(x.dtype), x.shape[-1], axis=-1)
        rows += [x, x_hat[:k], mask]
    save_grid(path, np.concatenate(rows), ncols=k)


def write_figures(out_dir: str, res: Dict, data: Dict, scores: Dict, n: int) -> Tuple[List[str], List[str]]:
    """Write the figures; return ``(written, skipped)`` file names."""
    thr = res["config"]["trace_threshold"]
    k = min(8, n)
    _examples(os.path.join(out_dir, "examples_shapes.png"), data["shapes"], scores["shapes"], _DOMAINS[0][1], k, thr)
    _examples(os.path.join(out_dir, "examples_digits.png"), data["digits"], scores["digits"], _DOMAINS[1][1], k, thr)
    written, skipped = ["examples_shapes.png", "examples_digits.png"], []
    plt = get_pyplot()
    for name, fn in (("errors.png", _hist), ("traces.png", _traces)):
        if plt is None:
            skipped.append(name)
        else:
            fn(os.path.join(out_dir, name), res, n, plt)
            written.append(name)
    return written, skipped
