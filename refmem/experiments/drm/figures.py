"""Figures of the DRM experiment (matplotlib optional: skipped with a message if absent).

- ``false_recall.png``: P(false recall of the lure) against the number of studied
  associates, mean ± SEM over 400 trials per k, with the human data and the paper's
  model curve; the controls as thin lines.
- ``sensitivity.png``: the same curve for each co-occurrence strength of the sweep.
- ``full_lists.png``: the decoded probability of each lure after the full 15-word list.
"""
from __future__ import annotations

import os
from typing import List, Tuple

from refmem.datasets.drm import HUMAN_FALSE_RECALL
from refmem.plotting import get_pyplot, save_figure

from refmem.experiments.drm.config import PAPER_CURVE, PAPER_FULL_LIST_LURES

__all__ = ["make_figures"]


def _reference(ax):
    ax.plot(list(HUMAN_FALSE_RECALL), list(HUMAN_FALSE_RECALL.values()), "ks", ms=7,
            label="human (Robinson & Roediger 1997)", zorder=5)
    ax.plot(list(PAPER_CURVE), list(PAPER_CURVE.values()), "--", color="tab:gray",
            label="paper's model (ROCStories)")


def make_figures(results: dict, out_dir: str) -> Tuple[List[str], List[str]]:
    """Write the figures; return (written file names, skipped names)."""
    names = ["false_recall.png", "full_lists.png"] + (["sensitivity.png"] if results["sweep"] else [])
    plt = get_pyplot()
    if plt is None:
        print("drm: matplotlib is not installed; figures skipped (pip install matplotlib)")
        return [], names
    c = results["curve"]
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    _reference(ax)
    ax.errorbar(c["ks"], c["rate"], yerr=c["sem"], fmt="o-", color="tab:blue", capsize=3,
                label="this model (synthetic corpus)")
    styles = {"decoupled corpus": ":", "hippocampus only": "-.", "untrained VAE": (0, (1, 3)),
              "constant decoder": (0, (5, 5))}
    for name, ctl in results["controls"].items():
        cc = ctl["curve"]
        ax.plot(cc["ks"], cc["rate"], linestyle=styles.get(name, ":"), lw=1, label=f"control: {name}")
    ax.set_xlabel("number of studied associates k")
    ax.set_ylabel("P(false recall of the lure)")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xticks(c["ks"])
    ax.set_title(f"DRM: false recall vs list length (mean ± SEM, {c['n_trials'][0]} trials per k)", fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    save_figure(fig, os.path.join(out_dir, "false_recall.png"))

    rows = results["full_lists"]["lists"]
    fig, ax = plt.subplots(figsize=(8, 3.6))
    xs = range(len(rows))
    ax.bar(xs, [r["lure_p"] or 0.0 for r in rows], color=["tab:red" if r["lure_recalled"] else "tab:gray"
                                                           for r in rows], label="this model")
    ax.plot([i for i, r in enumerate(rows) if r["lure"] in PAPER_FULL_LIST_LURES],
            [PAPER_FULL_LIST_LURES[r["lure"]] for r in rows if r["lure"] in PAPER_FULL_LIST_LURES],
            "k*", ms=9, label="paper: recalled lures (p)")
    ax.axhline(0.5, color="k", lw=0.8, ls="--")
    ax.set_xticks(list(xs))
    ax.set_xticklabels([r["lure"] for r in rows], rotation=60, fontsize=8)
    ax.set_ylabel("decoded p(lure)")
    ax.set_ylim(0, 1.05)
    ax.set_title(f"Full 15-word lists: {results['full_lists']['n_lures_recalled']}/20 lures recalled "
                 f"(paper 6/20)", fontsize=10)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2)
    save_figure(fig, os.path.join(out_dir, "full_lists.png"))

    if results["sweep"]:
        fig, ax = plt.subplots(figsize=(6.4, 4.4))
        _reference(ax)
        colors = ["tab:purple", "tab:green", "tab:orange", "tab:blue", "tab:red", "tab:brown", "tab:olive"]
        for i, s in enumerate(results["sweep"]):
            main = s["lure_weight"] == results["config"]["corpus"]["lure_weight"]
            ax.errorbar(s["ks"], s["rate"], yerr=s["sem"], fmt="o-", ms=3, capsize=2, lw=2.2 if main else 1.2,
                        color=colors[i % len(colors)],
                        label=f"lure_weight {s['lure_weight']:g} (P(lure|assoc) {s['p_lure_given_assoc']:.2f})"
                              + (" [main]" if main else ""))
        ax.set_xlabel("number of studied associates k")
        ax.set_ylabel("P(false recall of the lure)")
        ax.set_ylim(-0.02, 1.02)
        ax.set_title("Sensitivity to the corpus's lure-associate co-occurrence", fontsize=10)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        save_figure(fig, os.path.join(out_dir, "sensitivity.png"))
    return names, []
