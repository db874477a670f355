"""Results of a consolidation run: ``results.json`` and ``report.md``.

The effects table is made of the rows of :func:`refmem.experiments.criteria.evaluate`
on :mod:`.criteria` (paper wording, this run's value, pass/fail, the negative control
and its value); :func:`write_report` renders them and the run's key numbers as Markdown.
"""
from __future__ import annotations

import math
from typing import Dict, List, Tuple


from refmem._utils import atomic_write_bytes, save_json
from refmem.experiments.consolidation.criteria import CONTROLS, control_measures, criteria
from refmem.experiments.consolidation.imagination import INACTIVE_SD
from refmem.experiments.criteria import control_summary, count_passed, format_table
from refmem.progress import format_seconds

__all__ = ["write_results", "write_report", "verdict_changes"]


def _f(x, nd=3) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, float) and not math.isfinite(x):
        return "nan"
    return f"{x:.{nd}f}" if isinstance(x, float) else str(x)


def _strip_arrays(d):
    if isinstance(d, dict):
        return {k: _strip_arrays(v) for k, v in d.items() if k != "arrays"}
    return d


def write_results(path: str, res: Dict) -> None:
    """Write ``results.json`` (the analyses' image arrays are left out)."""
    save_json(path, _strip_arrays(res))


def _memory_lines(res: Dict) -> List[str]:
    """The peak resident memory of the process (``ru_maxrss``), and after which stage it was reached."""
    peak, after = res.get("peak_rss_bytes"), res.get("peak_rss_bytes_after") or {}
    if not peak:
        return []
    first = next((k for k, v in after.items() if v == peak), None)
    lines = ["", "## Memory", "", f"Peak resident memory of the process: {peak / 2 ** 30:.2f} GiB"
             + (f", reached during the stage `{first}`" if first else "")
             + (" (the process that finished the run, which resumed an interrupted one)" if res.get("resumed") else "")
             + ".", "", "| after stage | peak so far (GiB) |", "|---|---|"]
    lines += [f"| {k} | {v / 2 ** 30:.2f} |" for k, v in after.items() if v]
    return lines


def verdict_changes(res: Dict, rows: List[Dict[str, object]]) -> Tuple[List[str], List[str]]:
    """After a rejudgement: ``(changed, new)``, the criterion ids whose verdict differs from
    the run's own (``res["rejudged"]["results_as_run"]``) and those the run did not have."""
    as_run = (res.get("rejudged") or {}).get("results_as_run", {})
    changed = [r["id"] for r in rows if r["id"] in as_run and as_run[r["id"]] != r["result"]]
    return changed, [r["id"] for r in rows if r["id"] not in as_run]


def _within_lines(res: Dict) -> List[str]:
    """The measurements within the first epochs (``within_epoch_every`` > 0), next to the epoch starts."""
    w = res.get("within_epoch")
    if not w:
        return []
    lines = ["", "### Within the first epochs", "",
             f"Measured every {res['config']['within_epoch_every']} steps ({w['steps_per_epoch']} steps per epoch) "
             "as at epoch starts; the training is the same as without these measurements.", "",
             "| epoch | step | held-out recon | decoding acc |", "|---|---|---|---|"]
    rows = [(e, 0, res["heldout_recon"][e], res["decoding_accuracy"][e]) for e in sorted(set(map(int, w["epoch"])))]
    rows += [(int(e), int(s), r, a) for e, s, r, a in zip(w["epoch"], w["step"], w["heldout_recon"],
                                                           w["decoding_accuracy"])]
    last = max(int(e) for e in w["epoch"]) + 1
    if last < len(res["decoding_accuracy"]):
        rows.append((last, 0, res["heldout_recon"][last], res["decoding_accuracy"][last]))
    lines += [f"| {e + 1} | {s} | {_f(r, 2)} | {_f(a)} |" for e, s, r, a in sorted(rows, key=lambda t: t[:2])]
    return lines


def _e7_lines(res: Dict) -> List[str]:
    """The E7 diagnostic: unused latent dimensions, and E7 with them held at their mean."""
    d = (res.get("e7") or {}).get("diagnostics")
    if not d:
        return []
    sd = d["latent_sd"]
    lines = ["", "## Imagination diagnostic (E7)", "",
             f"Held-out μ SD per latent dimension: {min(sd):.3f} to {max(sd):.3f}; "
             f"{len(d['inactive_dims'])} of {len(sd)} dimension(s) unused (SD < {INACTIVE_SD:g}: "
             f"{', '.join(map(str, d['inactive_dims'])) or 'none'})."]
    held = d.get("ranked_with_unused_at_mean")
    if held:
        frac = lambda f: ", ".join(f"{k}: {_f(v, 2)}" for k, v in f.items())  # noqa: E731
        lines += ["", "The probe standardises by the held-out μ's SD, so in prior samples the unused "
                  "dimensions are scaled up many times and dominate its RBF kernel. Top samples re-classified "
                  f"as requested, by class, as run: {frac(res['e7']['fraction_requested_by_class'])}; ranked with "
                  f"the unused dimensions held at their held-out mean: {frac(held['fraction_requested_by_class'])} "
                  f"(not a criterion; holding them changes the decoded samples by a mean absolute "
                  f"{_f(held['decoded_change_mae'], 4)})."]
    return lines


def write_report(path: str, res: Dict, rows: List[Dict[str, object]]) -> None:
    """Write ``report.md``: setup, the effects table with controls, per-epoch numbers, timings and figures."""
    cfg = res["config"]
    n_pass = count_passed(rows)[0]
    given = "given_vae" in res
    skipped = list(res.get("skipped_criteria", ()))
    if given:
        setup = (f"{cfg['n_memories']} memories stored in a modern Hopfield network (beta {cfg['beta']:g}) and "
                 f"{res['replay']['n_replay']} replays from noise (E1). The VAE was not trained here: "
                 f"{res['vae']['source']} ({res['vae']['architecture']} architecture, latent "
                 f"{res['vae']['kwargs'].get('latent_dim', 'n/a')}). {cfg['n_heldout']} held-out scenes; probe "
                 f"fitted on {cfg['probe_train']} and scored on {cfg['probe_test']}.")
    else:
        setup = (f"{cfg['n_memories']} memories stored in a modern Hopfield network (beta {cfg['beta']:g}), "
                 f"{res['replay']['n_replay']} replays from noise train a VAE (latent {cfg['latent_dim']}) for "
                 f"{res['epochs_trained']} epoch(s) (max {cfg['epochs']}"
                 f"{', stopped early' if res['stopped_early'] else ''}); {cfg['n_heldout']} held-out scenes; "
                 f"probe fitted on {cfg['probe_train']} and scored on {cfg['probe_test']}.")
    used = [c for c in criteria(cfg) if c.id not in skipped]
    if res.get("rejudged"):
        as_run, result = res["rejudged"]["results_as_run"], {r["id"]: r["result"] for r in rows}
        ids, new = verdict_changes(res, rows)
        changed = [f"{i} ({as_run[i]} -> {result[i]})" for i in ids]
        setup += (f" The verdicts below were judged again, without re-running anything, under the criteria of "
                  f"refmem {res['rejudged']['versions']['refmem']}; changed from the run's own: "
                  f"{', '.join(changed) if changed else 'none'}" + (f"; new criteria: {', '.join(new)}" if new else "")
                  + ".")
    lines = [f"# Consolidation run: config `{res['preset']}`, seed {cfg['seed']}", "", setup,
             (f"Wall time {format_seconds(res['timings']['total'])} in the process that finished the run, "
              f"which resumed an interrupted one: its {len(res['epoch_seconds'])} training epochs took "
              f"{format_seconds(sum(res['epoch_seconds']))} in all, across processes. Versions: "
              if res["resumed"] else f"Total wall time {format_seconds(res['timings']['total'])}. Versions: ")
             + ", ".join(f"{k} {v}" for k, v in res["versions"].items()) + ".", "",
             f"## Paper effects ({n_pass}/{len(rows)} pass)", "", format_table(rows),
             "Paper values are from `docs/paper-experiments.md` (E3 and E8 read from the paper's figure files); "
             "'qualitative' means the paper shows pictures only. The criteria are trend-based, so a "
             "reduced-scale run can meet them; the paper's absolute numbers are for comparison. Each "
             "criterion names a negative control, a broken model computed in this run, that must fail it. "
             "How each control fares on the whole list:", "",
             control_summary(used, control_measures(res), CONTROLS)]
    if given:
        g = res["given_vae"]
        lines += ["## The given VAE", "",
                  f"Skipped: {', '.join(skipped)} (E3 judges the course of training, and nothing was "
                  "trained here; there are no per-epoch curves). The given VAE measured once, as a "
                  "trained run measures its VAE at every epoch start:", "",
                  "| held-out recon error | shape decoding accuracy |", "|---|---|",
                  f"| {_f(g['heldout_recon'], 2)} | {_f(g['decoding_accuracy'])} |"]
    else:
        lines += ["## Per epoch", "", "| epoch | train loss | train recon | KL | held-out recon (start) | "
                  "decoding acc (start) | seconds |", "|---|---|---|---|---|---|---|"]
        h = res
        for e in range(len(h["recon_loss"])):
            lines.append(f"| {e + 1} | {_f(h['loss'][e], 2)} | {_f(h['recon_loss'][e], 2)} | {_f(h['kl'][e], 2)} | "
                         f"{_f(h['heldout_recon'][e], 2)} | {_f(h['decoding_accuracy'][e])} | "
                         f"{_f(h['epoch_seconds'][e], 1)} |")
        lines.append(f"| after last | | | | {_f(h['heldout_recon'][-1], 2)} | {_f(h['decoding_accuracy'][-1])} | |")
        lines += _within_lines(res)
    lines += _e7_lines(res)
    lines += ["", "## Timings", "", "| stage | seconds |", "|---|---|"]
    lines += [f"| {k} | {v:.1f} |" for k, v in res["timings"].items()]
    lines += _memory_lines(res)
    lines += ["", "## Figures", ""]
    lines += [f"- `{name}`" for name in res["figures"]]
    if res["skipped_figures"]:
        lines += ["", "Skipped (install matplotlib, `pip install 'refmem[plot]'`): "
                  + ", ".join(f"`{n}`" for n in res["skipped_figures"])]
    lines.append("")
    atomic_write_bytes(path, "\n".join(lines).encode("utf-8"))
