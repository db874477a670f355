"""E9's ``report.md``: a reconstruction, stated as such, with criteria, per-age tables and controls."""
from __future__ import annotations

import os
from typing import Dict

from refmem.experiments.common import format_timings
from refmem.experiments.criteria import count_passed, format_table
from refmem.experiments.lesion.figures import FIGURES

__all__ = ["write_report"]

RECONSTRUCTION = (
    "**Reconstruction.** The authors' notebook for this simulation is lost (the only one, in their "
    "earlier repository, cannot be retrieved), so the protocol below is rebuilt from the model's logic "
    "and is not verified against the paper's figure.")

ALVAREZ_SQUIRE = (
    "Alvarez & Squire (1994) modelled temporally graded retrograde amnesia with a fast medial-temporal "
    "store that slowly trains neocortical connections: after a hippocampal lesion, memories acquired "
    "shortly before it are lost while remote ones survive, and the loss falls off with age. Here the "
    "lesioned error should likewise fall with memory age; the old cohorts have been replayed on more "
    "days, so the VAE has trained on them for more epochs.")


def write_report(path: str, res: Dict) -> None:
    """Write the Markdown report of a lesion run."""
    cfg, m = res["config"], res["measures"]
    passed, total = count_passed(res["criteria"])
    ages = res["ages"]
    ba = res["by_age"]
    ctx = ("" if cfg.get("context_factor") is None else
           f" Each day's scenes share a context: day t uses the values v of factor {cfg['context_factor']} "
           f"with v mod {cfg['n_days']} = t.")
    lines = [f"# E9 memory age, hippocampal lesion, temporal gradient ({res['preset']})", "", RECONSTRUCTION, "",
             f"{cfg['n_days']} days, {cfg['n_per_cohort']} new scenes a day, {cfg['epochs_per_day']} VAE epochs a "
             f"day on replays of everything stored so far (no restart), cues with {cfg['cue_fraction']:.0%} of "
             f"elements zeroed, seed {cfg['seed']}.{ctx} Counterbalanced: the same groups of scenes arrive in the "
             f"forward and in the reverse order (two consolidations from the same initial VAE), so each scene is "
             f"recalled at two ages.", "",
             f"## Criteria: {passed}/{total} pass", "", format_table(res["criteria"]),
             "## Recall error by memory age (mean +- SEM)", "",
             "| age (days) | lesioned, both orders | forward | reverse | k = 0 control | intact | "
             "replays per memory | never replayed |", "|---|---|---|---|---|---|---|---|"]
    for a in ages:
        lines.append(f"| {a} | {ba['lesioned']['mean'][a]:.1f} +- {ba['lesioned']['sem'][a]:.1f} | "
                     f"{ba['forward']['mean'][a]:.1f} | {ba['reverse']['mean'][a]:.1f} | "
                     f"{ba['control']['mean'][a]:.1f} | {ba['intact']['mean'][a]:.3g} | "
                     f"{res['replays_per_memory_by_age'][a]:.2f} | {res['never_replayed_by_age'][a]:.0%} |")
    acc = res["decoding_accuracy"]
    lines += ["", f"Within scenes, Spearman(age difference, error difference) = {m['gradient_rho']:.3f} "
              f"(one-sided p = {m['gradient_p']:.3g}); a scene of the first or last group recalled when oldest "
              f"minus when newest: {m['oldest_minus_newest']:.1f} on average (paired p = {m['paired_p']:.3g}). "
              f"Intact recall returned the cued memory for {res['intact_winner_correct']:.1%} of cues. Shape "
              f"decoding from mu: {acc['forward']:.3f} (reverse order {acc['reverse']:.3f}, untrained VAE "
              f"{acc['untrained']:.3f}).", "",
              "## Partial lesions (forward order)", "",
              "| removed | mean error | recalls from the hippocampus | " + " | ".join(f"age {a}" for a in ages) + " |",
              "|---|---|---|" + "---|" * len(ages)]
    p = res["partial_lesion"]
    for i, f in enumerate(p["fractions"]):
        lines.append(f"| {f:.0%} | {p['mean'][i]:.1f} | {p['used_hippocampus'][i]:.0%} | "
                     + " | ".join(f"{v:.1f}" for v in p["by_age"][i]) + " |")
    lines += ["", "After a partial lesion each cue is recalled by whichever of the surviving network and the VAE "
              "explains it better (smaller |recall - cue|).", "",
              "## Comparison with Alvarez & Squire (1994)", "", ALVAREZ_SQUIRE, "", "## Figures", ""]
    lines += [f"- `{f}`: {FIGURES[f]}" for f in res["figures"]]
    lines += [f"- `{f}`: skipped (matplotlib not installed)" for f in res["skipped_figures"]]
    t = res["timings"]
    lines += ["", "## Run", "", f"Timings: {format_timings(t)}.", ""]
    with open(path + ".tmp", "w") as fh:
        fh.write("\n".join(lines))
    os.replace(path + ".tmp", path)
