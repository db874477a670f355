"""Results of a consolidation run: the effects table, ``results.json`` and ``report.md``.

:func:`effects_table` turns the run's numbers into one row per paper effect (id, effect,
criterion, the paper's value from docs/paper-experiments.md, this run's value, pass/fail);
:func:`write_report` renders the rows and the run's key numbers as Markdown.
"""
from __future__ import annotations

import math
import platform
from typing import Dict, List

import numpy as np

from refmem._utils import atomic_write_bytes, save_json
from refmem.progress import format_seconds

__all__ = ["PAPER", "versions", "effects_table", "write_results", "write_report", "format_table"]

#: the paper's numbers quoted in the report (docs/paper-experiments.md, E3 and E8, [F] = read from figure files)
PAPER = {
    "loss_first": 367.7, "loss_last": 47.3,  # E3 training recon loss, epoch 1 -> 50
    "acc_first": 0.3813, "acc_after_epoch1": 0.2693, "acc_last": 0.8320,  # E3 decoding accuracy
    "e8_mu_100": 0.75, "e8_pixels_100": 0.335, "e8_mu_10": 0.40, "e8_pixels_10": 0.24,
}


def versions() -> Dict[str, str]:
    """Versions of Python, NumPy, SciPy and refmem (for ``results.json``)."""
    import scipy

    from refmem import __version__

    return {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
            "refmem": __version__}


def _f(x, nd=3) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, float) and not math.isfinite(x):
        return "nan"
    return f"{x:.{nd}f}" if isinstance(x, float) else str(x)


def _row(eid, effect, criterion, paper, value, ok) -> Dict[str, str]:
    verdict = "n/a" if ok is None else ("PASS" if ok else "FAIL")
    return {"id": eid, "effect": effect, "criterion": criterion, "paper": paper, "this_run": value,
            "result": verdict}


def effects_table(res: Dict) -> List[Dict[str, str]]:
    """One row per paper effect checked by the run (E1-E8), with pass/fail.

    Parameters
    ----------
    res : dict
        The results dict of :func:`refmem.experiments.consolidation.run` (``config``, ``replay``,
        ``e3``, ``e2``, ``e4`` ... ``e8``).
    """
    cfg, rows = res["config"], []
    rp = res["replay"]
    rows.append(_row("E1", "replay converges to single stored memories",
                     f"fraction (cos or max weight >= {cfg['converged_weight']}) >= 0.95",
                     "near-exact copies (no number)", f"{_f(rp['fraction_converged'])}; "
                     f"{rp['distinct_memories']}/{rp['n_memories']} distinct memories",
                     rp["fraction_converged"] >= 0.95))
    e3 = res["e3"]
    rows.append(_row("E3a", "reconstruction loss falls over consolidation",
                     f"training recon loss first/last epoch >= {cfg['min_loss_ratio']:g}x",
                     f"{PAPER['loss_first']} -> {PAPER['loss_last']} (x{PAPER['loss_first'] / PAPER['loss_last']:.1f})",
                     f"{_f(e3['loss_first'], 1)} -> {_f(e3['loss_last'], 1)} (x{_f(e3['loss_ratio'], 1)})",
                     e3["loss_ratio"] >= cfg["min_loss_ratio"]))
    rows.append(_row("E3b", "semantic decoding accuracy rises",
                     f"Spearman(epoch, accuracy) > {cfg['min_accuracy_spearman']:g} and final >= "
                     f"{cfg['min_final_accuracy']:g}",
                     f"{PAPER['acc_first']} -> {PAPER['acc_last']} (50 epochs)",
                     f"{_f(e3['accuracy_first'])} -> {_f(e3['accuracy_final'])}, rho {_f(e3['accuracy_spearman'], 2)}",
                     e3["accuracy_spearman"] > cfg["min_accuracy_spearman"]
                     and e3["accuracy_final"] >= cfg["min_final_accuracy"]))
    rows.append(_row("E3c", "final accuracy above accuracy after epoch 1", "final > after epoch 1",
                     f"{PAPER['acc_last']} > {PAPER['acc_after_epoch1']}",
                     f"{_f(e3['accuracy_final'])} vs {_f(e3['accuracy_after_epoch1'])}",
                     None if e3["accuracy_after_epoch1"] is None
                     else e3["accuracy_final"] > e3["accuracy_after_epoch1"]))
    e2 = res.get("e2")
    if e2:
        rows.append(_row("E2", f"recall of {int(e2['fraction'] * 100)}%-zeroed held-out scenes",
                         "recall error < corrupted input's and < untrained VAE's", "qualitative",
                         f"{_f(e2['error_recall'], 1)} vs input {_f(e2['error_corrupted_input'], 1)}, "
                         f"untrained {_f(e2['error_untrained_recall'], 1)}", e2["passed"]))
    e4 = res.get("e4")
    if e4:
        rows.append(_row("E4", "latent space clusters by shape",
                         f"{e4['k']}-NN shape agreement in mu > 0.6 and > pixels; silhouette mu > pixels",
                         "clusters (t-SNE, qualitative)",
                         f"mu {_f(e4['knn_agreement_mu'])} vs pixels {_f(e4['knn_agreement_pixels'])} "
                         f"(chance {_f(e4['chance'], 2)}); silhouette {_f(e4['silhouette_mu'], 2)} vs "
                         f"{_f(e4['silhouette_pixels'], 2)}", e4["passed"]))
    e5 = res.get("e5")
    if e5:
        rows.append(_row("E5", "imagination by latent interpolation",
                         "decoded intermediates nearer real scenes (MAE) than pixel blends",
                         "smooth realistic scenes (qualitative)",
                         f"{_f(e5['decoded_distance'], 4)} vs {_f(e5['blend_distance'], 4)} "
                         f"({_f(e5['fraction_decoded_closer'], 2)} of steps closer)", e5["passed"]))
    e6 = res.get("e6")
    if e6:
        rows.append(_row("E6", "relational inference by latent arithmetic",
                         f"probe gives B's value >= 2x chance over {e6['n_triples']} triples",
                         "qualitative", f"{_f(e6['accuracy'])} vs chance {_f(e6['chance'])} "
                         f"(x{_f(e6['ratio_to_chance'], 1)})", e6["passed"]))
    e7 = res.get("e7")
    if e7:
        rows.append(_row("E7", "imagination by class-conditioned prior sampling",
                         f"top {e7['top']} per class re-classified as requested >= 0.8, diverse",
                         "varied scenes of the requested shape (qualitative)",
                         f"min over classes {_f(e7['min_fraction_requested'], 2)} (mean "
                         f"{_f(e7['fraction_requested'], 2)}); diversity {_f(e7['min_diversity'], 3)}",
                         e7["passed"]))
    e8 = res.get("e8")
    if e8:
        acc = e8["accuracy"]
        at = {n: i for i, n in enumerate(e8["sizes"])}
        i = at.get(100, len(e8["sizes"]) - 1)
        n_show = e8["sizes"][i]
        rows.append(_row("E8", "few-shot learning from mu beats pixels", "mu > pixels for every n <= 200",
                         f"n=100: {PAPER['e8_mu_100']} vs {PAPER['e8_pixels_100']}",
                         f"n={n_show}: {_f(acc['mu'][i])} vs {_f(acc['pixels'][i])}",
                         e8["mu_beats_pixels_small_n"]))
        if "gap_at_100" in e8:
            rows.append(_row("E8b", "few-shot gap at n = 100", "mu - pixels >= 0.15",
                             f"{PAPER['e8_mu_100'] - PAPER['e8_pixels_100']:.3f}", _f(e8["gap_at_100"]),
                             bool(e8["gap_at_100"] >= 0.15) if math.isfinite(e8["gap_at_100"]) else None))
            rows.append(_row("E8c", "deeper layers decode shape better (n = 100)",
                             "Spearman(depth, accuracy) > 0", "1.0 (monotone)",
                             _f(e8["depth_spearman_at_100"], 2),
                             bool(e8["depth_spearman_at_100"] > 0)
                             if math.isfinite(e8["depth_spearman_at_100"]) else None))
    return rows


def format_table(rows: List[Dict[str, str]]) -> str:
    """The effects table as Markdown."""
    head = "| id | effect | criterion | paper | this run | result |\n|---|---|---|---|---|---|\n"
    return head + "".join(f"| {r['id']} | {r['effect']} | {r['criterion']} | {r['paper']} | {r['this_run']} | "
                          f"**{r['result']}** |\n" for r in rows)


def _strip_arrays(d):
    if isinstance(d, dict):
        return {k: _strip_arrays(v) for k, v in d.items() if k != "arrays"}
    return d


def write_results(path: str, res: Dict) -> None:
    """Write ``results.json`` (the analyses' image arrays are left out)."""
    save_json(path, _strip_arrays(res))


def write_report(path: str, res: Dict, rows: List[Dict[str, str]]) -> None:
    """Write ``report.md``: setup, the effects table, per-epoch numbers, timings and figures."""
    cfg = res["config"]
    n_pass = sum(r["result"] == "PASS" for r in rows)
    lines = [f"# Consolidation run: config `{res['preset']}`, seed {cfg['seed']}", "",
             f"{cfg['n_memories']} memories stored in a modern Hopfield network (beta {cfg['beta']:g}), "
             f"{res['replay']['n_replay']} replays from noise train a VAE (latent {cfg['latent_dim']}) for "
             f"{res['epochs_trained']} epoch(s) (max {cfg['epochs']}"
             f"{', stopped early' if res['stopped_early'] else ''}); {cfg['n_heldout']} held-out scenes; "
             f"probe fitted on {cfg['probe_train']} and scored on {cfg['probe_test']}.",
             f"Total wall time {format_seconds(res['timings']['total'])}. Versions: "
             + ", ".join(f"{k} {v}" for k, v in res["versions"].items()) + ".", "",
             f"## Paper effects ({n_pass}/{len(rows)} pass)", "", format_table(rows),
             "Paper values are from `docs/paper-experiments.md` (E3 and E8 read from the paper's figure files); "
             "'qualitative' means the paper shows pictures only. The criteria are trend-based, so a "
             "reduced-scale run can meet them; the paper's absolute numbers are for comparison.", "",
             "## Per epoch", "", "| epoch | train loss | train recon | KL | held-out recon (start) | "
             "decoding acc (start) | seconds |", "|---|---|---|---|---|---|---|"]
    h = res
    for e in range(len(h["recon_loss"])):
        lines.append(f"| {e + 1} | {_f(h['loss'][e], 2)} | {_f(h['recon_loss'][e], 2)} | {_f(h['kl'][e], 2)} | "
                     f"{_f(h['heldout_recon'][e], 2)} | {_f(h['decoding_accuracy'][e])} | "
                     f"{_f(h['epoch_seconds'][e], 1)} |")
    lines.append(f"| after last | | | | {_f(h['heldout_recon'][-1], 2)} | {_f(h['decoding_accuracy'][-1])} | |")
    lines += ["", "## Timings", "", "| stage | seconds |", "|---|---|"]
    lines += [f"| {k} | {v:.1f} |" for k, v in res["timings"].items()]
    lines += ["", "## Figures", ""]
    lines += [f"- `{name}`" for name in res["figures"]]
    if res["skipped_figures"]:
        lines += ["", "Skipped (install matplotlib, `pip install refmem[plot]`): "
                  + ", ".join(f"`{n}`" for n in res["skipped_figures"])]
    lines.append("")
    atomic_write_bytes(path, "\n".join(lines).encode("utf-8"))
