"""``report.md`` of the prototype experiment: criteria, statistics per digit set, per class."""
from __future__ import annotations

from typing import Any, Dict

from refmem._utils import atomic_write_bytes
from refmem.experiments.criteria import format_table

__all__ = ["write_report", "PAPER_MEAN", "PAPER_Q3"]

#: mean per-pixel variance before -> after, digits 0-9, of the paper's earlier run
#: (first 5,000 MNIST test digits; paper.md E10)
PAPER_MEAN = {"before": [.061, .023, .059, .051, .051, .058, .057, .047, .056, .047],
              "after": [.040, .018, .033, .027, .031, .031, .035, .031, .027, .027]}
#: upper quartile of the per-pixel variances before -> after, read from the paper's boxplot
PAPER_Q3 = {"before": [.148, .013, .129, .116, .105, .126, .133, .087, .133, .104],
            "after": [.086, .007, .067, .053, .060, .063, .072, .054, .055, .050]}


def _p(p: float) -> str:
    return "< 1e-300 (underflow)" if p == 0 else f"{p:.3g}"


def _test_line(name: str, s: Dict[str, Any]) -> str:
    t = s["test"]
    return (f"| {name} | {sum(s['n_per_class'])} | {s['classes_shrunk']}/{len(s['classes'])} | "
            f"{t['mean_before']:.4f} -> {t['mean_after']:.4f} | {t['t']:.2f} (df {t['df']}) | {_p(t['p'])} | "
            f"[{t['ci_low']:.4f}, {t['ci_high']:.4f}] | {t['cohens_d']:.3f} | "
            f"{s['prototype_distance_inputs']:.3f} -> {s['prototype_distance_recalls']:.3f} |")


def write_report(path: str, res: Dict[str, Any]) -> None:
    """Write ``report.md`` from the results dict of :func:`refmem.experiments.prototypes.run`."""
    cfg, sets, main = res["config"], res["sets"], res["sets"][res["measured_on"]]
    lines = [f"# Prototypical distortion on real digits (E10), `{res['preset']}` config", "",
             f"VAE: {res['vae']['source']}. Digits: the shipped 5,000 MNIST digits, {cfg['n_per_class']} per "
             f"class, split per class into a stored half ({res['split']['trained']}) and a held-out half "
             f"({res['split']['heldout']}); seed {cfg['seed']}. Recall = decode(mu(x)), no noise. "
             f"Criteria evaluated on: **{res['measured_on']}**. Run time {res['timings']['total_s']:.0f} s "
             f"(of which VAE {res['vae']['train_s']:.0f} s).", ""]
    c = res.get("consolidation")
    if c:
        h, r = c["history"], c["replay"]
        scale, what = (784.0, "summed BCE + KL per digit") if cfg["train_loss"] == "bce" else (1.0, "L1 + KL")
        lines += [f"Consolidation: {r['n_replay']} replays from noise (beta = {cfg['beta']}, normalised, "
                  f"<= {cfg['max_replay_iter']} updates): {r['fraction_converged']:.3f} ended on one stored digit, "
                  f"{r['distinct_memories']} distinct digits replayed. VAE trained on the replays for "
                  f"{h['epochs']} epochs (early stop: {h['stopped_early']}), loss ({what}) "
                  f"{h['loss'][0] * scale:.1f} -> {h['loss'][-1] * scale:.1f}, KL {h['kl'][-1]:.1f}, "
                  f"{c['train_s']:.0f} s.", ""]
    lines += ["## Criteria", "", format_table(res["criteria"]), "",
              "Controls, on the same digits: `identity`, a perfect autoencoder (the recall is the input); "
              "`untrained VAE`, the MNIST VAE with its initial weights (same seed).", "",
              "## Statistics per digit set", "",
              "t-test: `scipy.stats.ttest_rel(after, before)` over all (class, pixel) pairs (negative t = "
              "variance shrinks; the paper's argument order gives the same |t| and p), 95% CI of "
              "mean(after - before); Cohen's d = mean(after - before) / population sd.", "",
              "| set | digits | classes shrinking | mean variance before -> after | t | p | 95% CI | d | "
              "distance to class mean, inputs -> recalls |", "|---|---|---|---|---|---|---|---|---|"]
    lines += [_test_line(n, sets[n]) for n in ("heldout", "trained", "all")]
    lines += ["", f"## Per class ({res['measured_on']})", "",
              "| digit | mean variance before -> after | paper (earlier run) | Q3 before -> after | paper Q3 |",
              "|---|---|---|---|---|"]
    for k, cl in enumerate(main["classes"]):
        pm = f"{PAPER_MEAN['before'][cl]:.3f} -> {PAPER_MEAN['after'][cl]:.3f}" if cl < 10 else ""
        pq = f"{PAPER_Q3['before'][cl]:.3f} -> {PAPER_Q3['after'][cl]:.3f}" if cl < 10 else ""
        lines.append(f"| {cl} | {main['mean_before'][k]:.3f} -> {main['mean_after'][k]:.3f} | {pm} | "
                     f"{main['q3_before'][k]:.3f} -> {main['q3_after'][k]:.3f} | {pq} |")
    lines += ["", "## Figures", ""] + [f"![{f}]({f})" for f in res["figures"]]
    if res["skipped_figures"]:
        lines += ["", "Skipped (needs matplotlib): " + ", ".join(res["skipped_figures"])]
    atomic_write_bytes(path, ("\n".join(lines) + "\n").encode())
