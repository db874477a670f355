"""E16's ``report.md``: recovery and error by stage and corruption, criteria and control."""
from __future__ import annotations

import os
from typing import Dict

from refmem.experiments.common import format_timings
from refmem.experiments.criteria import count_passed, format_table
from refmem.experiments.hybrid.figures import FIGURES

__all__ = ["write_report"]


def write_report(path: str, res: Dict) -> None:
    """Write the Markdown report of a hybrid-recall run."""
    cfg = res["config"]
    passed, total = count_passed(res["criteria"])
    lines = [f"# E16 hybrid recall of partly consolidated memories ({res['preset']})", "",
             f"{cfg['n_memories']} scenes stored in the Hopfield network (beta {cfg['beta']:g}, normalised, "
             f"{cfg['max_iter']} updates) and replayed to train the VAE; the VAE is kept after epochs "
             f"{cfg['stages']}. {cfg['n_test']} stored scenes are recalled from cues with part of their elements "
             f"zeroed. A recall *recovers* its scene when their cosine (pattern range [-1, 1]) is >= "
             f"{cfg['recovery_cosine']}. Seed {cfg['seed']}.", "",
             f"## Criteria: {passed}/{total} pass", "", format_table(res["criteria"]),
             "## Exact recovery and error", "",
             "| stage | zeroed | VAE alone | raw cue -> Hopfield | gist -> Hopfield | error VAE | error raw | "
             "error gist -> Hopfield |",
             "|---|---|---|---|---|---|---|---|"]
    for stage in ["untrained"] + res["stages"]:
        for f in res["fractions"]:
            c = res["table"][stage][f]
            lines.append(f"| {stage} | {float(f):.0%} | {c['vae']:.3f} | {c['raw']:.3f} | {c['hybrid']:.3f} | "
                         f"{c['vae_error']:.1f} | {c['raw_error']:.1f} | {c['hybrid_error']:.1f} |")
    beats = [(s, f) for s in res["stages"] for f in res["fractions"]
             if res["table"][s][f]["hybrid"] > res["table"][s][f]["raw"]]
    lines += ["", "Gist-then-Hopfield beats the raw-cue query at: "
              + (", ".join(f"{s} / {float(f):.0%} zeroed" for s, f in beats) if beats else "no stage and level") + ".",
              ""]
    c = res["consolidation"]
    if c.get("decoding_accuracy"):
        lines += ["Consolidation at the epoch starts (held-out reconstruction error, shape decoding): "
                  + ", ".join(f"{i}: {r:.0f} / {a:.2f}" for i, (r, a) in
                              enumerate(zip(c["heldout_recon"], c["decoding_accuracy"]))) + ".", ""]
    lines += ["## Figures", ""] + [f"- `{f}`: {FIGURES[f]}" for f in res["figures"]]
    lines += [f"- `{f}`: skipped (matplotlib not installed)" for f in res["skipped_figures"]]
    lines += ["", "## Run", "", f"Staged VAEs: `{res['stage_dir']}`. Timings: {format_timings(res['timings'])}.", ""]
    with open(path + ".tmp", "w") as fh:
        fh.write("\n".join(lines))
    os.replace(path + ".tmp", path)
