"""``report.md`` of the boundary-extension experiment: criteria and the per-zoom table."""
from __future__ import annotations

from typing import Any, Dict

from refmem._utils import atomic_write_bytes
from refmem.experiments.criteria import format_table

__all__ = ["write_report"]


def write_report(path: str, res: Dict[str, Any]) -> None:
    """Write ``report.md`` from the results dict of :func:`refmem.experiments.boundary.run`."""
    cfg, s = res["config"], res["measures"]["summary"]
    c = res["controls"]["identity"]["summary"]
    cn = res["controls"]["identity (noisy cue)"]["summary"]
    lines = [f"# Boundary extension and contraction (E11), `{res['preset']}` config", "",
             f"VAE: {res['vae']['source']}. {cfg['n_images']} held-out rendered cubes (object hue differs from "
             f"floor and wall hue); zoom {', '.join(str(z) for z in s['zoom'])}%; recall = decode(mu(cue)) with "
             f"{cfg['cue_fraction']:.0%} of elements zeroed; heights from k-means (k = {cfg['k']}, "
             f"{cfg['attempts']} attempts) in column {cfg['column']}; seed {cfg['seed']}. "
             f"{res['n_zero_input_height']} (image, zoom) inputs had height 0 (change set to 0). "
             f"Run time {res['timings']['total_s']:.0f} s (VAE training {res['vae']['train_s']:.0f} s).", "",
             "## Criteria", "", format_table(res["criteria"]), "",
             f"Control `identity`: a perfect memory, whose recall is the zoomed input (its height measured "
             f"again with fresh k-means draws; first {res['n_control']} images). Also shown: the identity that "
             f"returns the noisy cue; the zeroed elements bias the segmentation (smaller heights), so it is "
             f"not a fair null for the model's smooth recalls.", "",
             "## Size change per zoom level", "",
             "| zoom % | paper median | median | Q1 | Q3 | P10 | P90 | mean (SEM) | identity median | "
             "noisy-cue identity median |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for i, z in enumerate(s["zoom"]):
        p = res["paper_medians"].get(str(z))
        lines.append(f"| {z} | {'' if p is None else f'{p:+.3f}'} | {s['median'][i]:+.3f} | {s['q1'][i]:+.3f} | "
                     f"{s['q3'][i]:+.3f} | {s['p10'][i]:+.3f} | {s['p90'][i]:+.3f} | "
                     f"{s['mean'][i]:+.3f} ({s['sem'][i]:.3f}) | {c['median'][i]:+.3f} | {cn['median'][i]:+.3f} |")
    rho = res["measures"]["spearman_rho"]
    lines += ["", f"Spearman(zoom, median change) = {'n/a' if rho is None else f'{rho:.3f}'} "
              f"(paper's medians: -1.0).", "", "## Figures", "",
              "`examples.png`: one row per zoom level (smallest at the top); columns: the original scene, the "
              "zoomed input, the cue (10% of elements zeroed), the recall.", ""]
    lines += [f"![{f}]({f})" for f in res["figures"]]
    if res["skipped_figures"]:
        lines += ["", "Skipped (needs matplotlib): " + ", ".join(res["skipped_figures"])]
    atomic_write_bytes(path, ("\n".join(lines) + "\n").encode())
