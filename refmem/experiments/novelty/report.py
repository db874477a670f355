"""E17's ``report.md``: fractions above threshold, AUC, trace sizes, the random-split control."""
from __future__ import annotations

import os
from typing import Dict

from refmem.experiments.common import format_timings
from refmem.experiments.criteria import count_passed, format_table
from refmem.experiments.novelty.criteria import SETS
from refmem.experiments.novelty.figures import FIGURES

__all__ = ["write_report"]


def write_report(path: str, res: Dict) -> None:
    """Write the Markdown report of a novelty run."""
    cfg = res["config"]
    passed, total = count_passed(res["criteria"])
    thr = res["thresholds"]
    lines = [f"# E17 novelty and what the hippocampus must store ({res['preset']})", "",
             f"Shapes3D VAE trained on scenes of three shapes (novel: shape {cfg['novel_shape']}); digits VAE "
             f"trained on the shipped digits without classes {cfg['digits_novel']} (novel); out-of-domain: "
             f"rendered scenes in greyscale 28 x 28 for the digits VAE. Familiar items are unseen items of the "
             f"trained classes. {cfg['n_test']} items per set, seed {cfg['seed']}.", "",
             f"Thresholds for 'hippocampal encoding required': digits {thr['digits']:.1f} (the preprint's MNIST "
             f"value), scenes {thr['shapes']:.1f}"
             + (f" (the {cfg['threshold_quantile']:.0%} quantile of the training scenes' errors)"
                if cfg["shapes_threshold"] is None else "") + ". Trace: pixels whose channel-mean prediction error "
             f"exceeds {cfg['trace_threshold']:g}.", "",
             f"## Criteria: {passed}/{total} pass", "", format_table(res["criteria"]),
             "## Familiar vs novel", "",
             "| novel set | above threshold: familiar | novel | ROC AUC | trace familiar | trace novel | trace p | "
             "control AUC | control gap |", "|---|---|---|---|---|---|---|---|---|"]
    for s, what in SETS.items():
        m, c = res["sets"][s], res["random_split"][s]
        lines.append(f"| {what} | {m['frac_familiar']:.3f} | {m['frac_novel']:.3f} | {m['auc']:.3f} | "
                     f"{m['trace_familiar']:.1f} | {m['trace_novel']:.1f} | {m['trace_p']:.2g} | {c['auc']:.3f} | "
                     f"{c['frac_gap']:+.3f} |")
    lines += ["", "The control compares two halves of the familiar held-out items (a random split of the "
              "trained classes).", "", "## Figures", ""]
    lines += [f"- `{f}`: {FIGURES[f]}" for f in res["figures"]]
    lines += [f"- `{f}`: skipped (matplotlib not installed)" for f in res["skipped_figures"]]
    lines += ["", "## Run", "", f"Timings: {format_timings(res['timings'])}.", ""]
    with open(path + ".tmp", "w") as fh:
        fh.write("\n".join(lines))
    os.replace(path + ".tmp", path)
