"""Outputs of the extended-model run: ``report.md`` and figures.

* :func:`write_report`: ``report.md`` (the criteria of :mod:`.criteria` with paper,
  this run, the negative controls and their values; the sweep table).
* :func:`save_stage_figures`: the six stages of recall (PNG grids, no matplotlib).
* :func:`plot_tradeoff`: recall error and stored units vs threshold (twin axes;
  needs matplotlib, otherwise skipped and recorded by the caller).
"""
from __future__ import annotations

import os
from typing import Dict, List, Optional

import numpy as np

from refmem._utils import atomic_write_bytes
from refmem.experiments.criteria import control_summary, count_passed, format_table
from refmem.experiments.extended.config import PAPER_SWEEP
from refmem.experiments.extended.criteria import CONTROLS, CRITERIA
from refmem.systems.extended import RecallResult

__all__ = ["write_report", "save_stage_figures", "plot_tradeoff", "STAGE_NAMES"]

STAGE_NAMES = ("original", "noisy_cue", "stored_sensory", "retrieved_sensory", "decoded_latent", "combined")


def _f(v: Optional[float], fmt: str = "+.3f") -> str:
    return "n/a" if v is None else format(v, fmt)


def write_report(path: "os.PathLike | str", results: dict, control_measures: Optional[dict] = None) -> None:
    """Write ``report.md``: criteria (paper, this run, pass/fail, controls) and the sweep table.

    ``control_measures`` (control name -> measures) gives how each control fares on all criteria.
    """
    s, cfg = results["summary"], results["config"]
    lines = [f"# Extended model (E12-E13): sensory + conceptual traces, `{results['preset']}` config", "",
             f"{s['n_items']} held-out scenes with the paper's three white squares; VAE: {results['vae']['source']}; "
             f"beta = {cfg['beta']} (normalize = {cfg['normalize']}), <= {cfg['max_iter']} updates, cue = "
             f"{cfg['cue_fraction']:.0%} of elements zeroed; seed {cfg['seed']}. "
             f"Run time {results['timings']['total_s']:.0f} s (measured on a shared machine, noisy).", "",
             "## Criteria", "", format_table(results["criteria"]),
             f"{count_passed(results['criteria'])[0]} of {len(results['criteria'])} criteria pass. Each names a "
             "negative control, a broken model swept in this run, that must fail it. How each control fares on "
             "the whole list:", "", control_summary(CRITERIA, control_measures or {}, CONTROLS),
             "## Threshold sweep (E13): this run vs the paper", "",
             "| threshold | SSE (SEM) | paper SSE (SEM) | count (SEM) | paper count (SEM) | stored units | "
             "trace / image size | retrieval | SSE in squares | SSE outside |", "|---|---|---|---|---|---|---|---|---|---|"]
    paper = {round(t, 6): k for k, t in enumerate(PAPER_SWEEP["thresholds"])}
    for r in s["per_threshold"]:
        k = paper.get(round(r["threshold"], 6))
        pe = "-" if k is None else f"{PAPER_SWEEP['sse_mean'][k]} ({PAPER_SWEEP['sse_sem'][k]})"
        pc = "-" if k is None else f"{PAPER_SWEEP['count_mean'][k]:.0f} ({PAPER_SWEEP['count_sem'][k]:.0f})"
        lines.append(f"| {r['threshold']:.2f} | {r['sse_mean']:.1f} ({r['sse_sem']:.1f}) | {pe} | "
                     f"{r['count_mean']:.0f} ({r['count_sem']:.0f}) | {pc} | {r['stored_mean']:.0f} | "
                     f"{r['economy_mean']:.3f} | {r['retrieval_accuracy']:.0%} | {r['sse_in_mean']:.2f} | "
                     f"{r['sse_out_mean']:.1f} |")
    v = s["vae_only"]
    lines += ["", f"VAE alone, g(mu(x)) of the clean stimulus: SSE {v['sse_mean']:.1f} (SEM {v['sse_sem']:.1f}), "
              f"inside squares {v['sse_in_mean']:.2f}, outside {v['sse_out_mean']:.1f}; from the noisy cue, "
              f"g(mu(cue)): {v['cue_sse_mean']:.1f}.", ""]
    if "spearman_sse" in s:
        lines.append(f"Spearman over the sweep thresholds: error rho = {_f(s['spearman_sse']['rho'])} "
                     f"(p = {_f(s['spearman_sse']['p'], '.2g')}), count rho = {_f(s['spearman_count']['rho'])} "
                     f"(p = {_f(s['spearman_count']['p'], '.2g')}); paper: +1 and -1.")
    m = s["monotonicity"]
    lines += ["", "## Error monotonicity per item", "",
              f"Stored sensory units increased with the threshold for {m['stored_violations']} of {m['n_items']} "
              f"items (nested masks: must be 0). Recall SSE decreased between consecutive thresholds for "
              f"{m['sse_violations']} of {m['n_items']} items; {m['sse_violations_exact']} of them among the "
              f"{m['n_exact_items']} items whose retrieval was correct and exact (max weight >= 1 - 1e-6) at "
              f"every threshold, where the invariant is a theorem (docs/extended.md).", ""]
    lines += _violation_lines(results, m["violating_items"][:5])
    lines += ["## Figures", ""]
    for f in results["figures"]:
        lines.append(f"- `{f}`")
    for f in results.get("skipped_figures", []):
        lines.append(f"- `{f}`: skipped (needs matplotlib: `pip install 'refmem[plot]'`)")
    t = results["timings"]
    lines += ["", "## Timings (shared 2-core machine; noisy)", ""]
    lines += [f"- {k}: {val:.1f} s" for k, val in t.items()]
    atomic_write_bytes(path, ("\n".join(lines) + "\n").encode("utf-8"))


def _violation_lines(results: dict, items: List[int]) -> List[str]:
    """One line per item whose SSE fell as the threshold rose: SSE and retrieval per threshold."""
    if not items:
        return []
    per = results["per_item"]
    ts = results["summary"]["sweep"]["thresholds"]
    rows = [next(k for k, t in enumerate(per["thresholds"]) if abs(t - s) < 1e-12) for s in ts]
    out = ["Items whose SSE fell as the threshold rose (SSE per sweep threshold; `x` = wrong item retrieved):", ""]
    for i in items:
        cells = [f"{per['sse'][r][i]:.1f}{'' if per['correct'][r][i] else ' x'}" for r in rows]
        out.append(f"- item {i}: " + ", ".join(cells))
    return out + [""]


def save_stage_figures(out_dir: "os.PathLike | str", recalls: Dict[float, RecallResult], n_items: int,
                       scale: int = 2) -> List[str]:
    """Six-stage recall grids (one row per item), one PNG per threshold.

    Columns: original, noisy cue, stored sensory part, retrieved sensory part, decoded
    retrieved latent, combined output (docs/paper-experiments.md, E12 figure). Unstored sensory elements
    are grey (value 0 in [-1, 1]).

    Returns
    -------
    list of str
        File names written (relative to ``out_dir``).
    """
    from refmem.imageio import save_grid

    names = []
    for t, res in sorted(recalls.items()):
        k = min(int(n_items), len(res.cue))
        if k < 1:
            continue
        tiles = [res.stages(i)[s] for i in range(k) for s in STAGE_NAMES]
        name = f"recall_stages_t{t:.2f}.png"
        save_grid(os.path.join(out_dir, name), np.clip(np.stack(tiles), 0, 1), ncols=len(STAGE_NAMES), scale=scale)
        names.append(name)
    return names


def plot_tradeoff(path: "os.PathLike | str", summary: dict, paper: bool = True) -> bool:
    """Twin-axis plot: mean recall SSE and mean stored units (count) vs threshold.

    Returns
    -------
    bool
        False if matplotlib is not installed (nothing written).
    """
    from refmem.plotting import get_pyplot, save_figure

    plt = get_pyplot()
    if plt is None:
        return False
    sw = summary["sweep"]
    fig, ax1 = plt.subplots(figsize=(5.5, 3.8))
    ax2 = ax1.twinx()
    ax1.errorbar(sw["thresholds"], sw["sse_mean"], yerr=sw["sse_sem"], color="C3", marker="o",
                 label="recall error (this run)")
    ax2.errorbar(sw["thresholds"], sw["count_mean"], yerr=sw["count_sem"], color="C0", marker="s",
                 label="stored units (this run)")
    if paper:
        ax1.plot(PAPER_SWEEP["thresholds"], PAPER_SWEEP["sse_mean"], color="C3", ls=":", label="error (paper)")
        ax2.plot(PAPER_SWEEP["thresholds"], PAPER_SWEEP["count_mean"], color="C0", ls=":", label="units (paper)")
    ax1.set_xlabel("encoding error threshold")
    ax1.set_ylabel("mean SSE of recall", color="C3")
    ax2.set_ylabel("mean count of elements above threshold", color="C0")
    h1, l1 = ax1.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax1.legend(h1 + h2, l1 + l2, fontsize=7, loc="center right")
    ax1.set_title("Error-threshold trade-off (E13)")
    save_figure(fig, path)
    return True
